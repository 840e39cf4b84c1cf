"""Hand-written checks of the community survey, beside the generated ``community_survey.py``.

The form itself cannot say these things: a coupon number identifies a respondent (so it is
replaced by a keyed pseudonym before analysis), each coupon is used once, and a recruiter's
coupon must be the coupon of somebody in the data (respondent-driven sampling links every
recruit to her recruiter; a link to nobody breaks the recruitment tree).
"""

#: Respondent ids: replaced by keyed pseudonyms (HMAC) so waves can be linked without the raw numbers.
PSEUDONYMISED = ("coupon", "recruiter_coupon")

#: Each coupon is handed to one person: a repeated coupon number is a data-entry error.
UNIQUE = ("coupon",)

#: A recruiter's coupon must be the coupon of a respondent in the data.
REFERENCES = {"recruiter_coupon": "coupon"}

#: Extra row rules, written as XLSForm expressions.
RULES = (
    {
        "column": "recruiter_coupon",
        "name": "recruiter_coupon != coupon",
        "expression": "${recruiter_coupon} != ${coupon}",
        "messages": {
            "es": "Una participante no puede ser su propia reclutadora: el cupón de la reclutadora es igual al suyo.",
            "en": "A participant cannot be her own recruiter: the recruiter's coupon equals her own.",
            "pt": "Uma participante não pode ser a própria recrutadora: o cupom da recrutadora é igual ao dela.",
        },
    },
)
