"""Hand-written checks of the health-services assessment, beside the generated ``health_services.py``."""

#: Extra row rules, written as XLSForm expressions.
RULES = (
    {
        "column": "test_fee_usd",
        "name": "a fee only where the test is not free",
        "expression": "${test_free} = 'no'",
        "messages": {
            "es": "Se anotó un monto aunque la prueba no se cobra.",
            "en": "An amount was entered although the test is free.",
            "pt": "Foi anotado um valor embora o teste seja gratuito.",
        },
    },
)
