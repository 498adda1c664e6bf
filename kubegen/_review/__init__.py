"""``kubegen review``: what a change does to security and availability, per stack, in one page.

A pull request's rendered diff can run to hundreds of lines; what a reviewer must see is a new
network flow, a new permission, an opt-out, an image or replica change, a deleted StatefulSet.
This package compares the output committed at a base commit (:mod:`.git`) with what the code
renders now, through the same analysis models ``kubegen graph``, ``kubegen access`` and
``kubegen lint`` use (:mod:`.compare`), and presents the changes (:mod:`.model`) as text,
Markdown or JSON. It sits above the pipeline: analysis and policy know nothing of it.
"""

from kubegen._review.model import CATEGORIES, Review, StackReview
from kubegen._review.run import review

__all__ = ["CATEGORIES", "Review", "StackReview", "review"]
