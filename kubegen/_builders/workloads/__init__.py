"""Workload builders: Container, pod template, Deployment, StatefulSet, Job, CronJob, DaemonSet."""
