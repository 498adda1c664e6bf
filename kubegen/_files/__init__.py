"""Files: read what is in ``output/<env>/``, compare, and replace it atomically under a lock."""
