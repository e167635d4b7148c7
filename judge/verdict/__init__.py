"""The verdict room: from a judge's raw text to one item's verdict.

=============================================  ================================================
:mod:`~judge.verdict.parse`                    raw text -> :class:`ParsedVerdict` (the table of
                                               traps; never invents a number)
:mod:`~judge.verdict.lenient_json`             the tolerant JSON reader the parser uses
:mod:`~judge.verdict.schema`                   the JSON schema a template's verdict must match
                                               (for constrained decoding)
:mod:`~judge.verdict.logprob_scores`           expected scores from score-token probabilities
:mod:`~judge.verdict.aggregate`                one item's runs -> one verdict and its status
=============================================  ================================================
"""
