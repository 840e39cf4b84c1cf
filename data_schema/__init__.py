"""pandera schemas generated from the XLSForms in surveys/ (see research_kit.forms.schema)."""
