"""Hand-written checks of the human-rights violation case form, beside the generated ``rights_violation.py``.

A case code follows a case through its follow-ups, so it is a respondent id: it is replaced by
a keyed pseudonym before analysis, and it must not repeat within one export.
"""

#: Case ids: replaced by keyed pseudonyms (HMAC) so follow-ups can be linked without the raw code.
PSEUDONYMISED = ("case_code",)

#: One record per case.
UNIQUE = ("case_code",)
