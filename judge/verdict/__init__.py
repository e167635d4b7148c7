"""The verdict room: from a judge's raw text to one item's verdict fields.

Modules: :mod:`~judge.verdict.aggregate` (permutation runs -> one verdict, with the status rule).
"""
