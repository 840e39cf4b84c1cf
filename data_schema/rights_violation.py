"""Schema of the form 'rights_violation' (version 2026.1), generated from surveys/rights_violation.xlsx.

Do not edit by hand: regenerate with ``python -m research_kit.forms.schema`` after changing the
form. Hand-written checks live beside this file, in ``rights_violation_checks.py``.

Examples
--------
>>> schema("submission").name
'rights_violation:submission'
"""

from research_kit.forms.schema import build_schema, load_extras_from

FORM_ID = 'rights_violation'
FORM_VERSION = '2026.1'

SPECS = {
    'submission': {
        'form_id': 'rights_violation',
        'version': '2026.1',
        'level': 'submission',
        'columns': {
            'start': {'type': 'dateTime', 'group': '', 'required': False, 'relevant': None, 'constraint': None, 'range': None, 'choices': None, 'choice_filter': None, 'calculation': None, 'messages': {}},
            'end': {'type': 'dateTime', 'group': '', 'required': False, 'relevant': None, 'constraint': None, 'range': None, 'choices': None, 'choice_filter': None, 'calculation': None, 'messages': {}},
            'today': {'type': 'date', 'group': '', 'required': False, 'relevant': None, 'constraint': None, 'range': None, 'choices': None, 'choice_filter': None, 'calculation': None, 'messages': {}},
            'country': {'type': 'select_one', 'group': 'case', 'required': True, 'relevant': None, 'constraint': None, 'range': None, 'choices': ['arg', 'blz', 'bol', 'chl', 'col', 'cri', 'ecu', 'slv', 'gtm', 'hnd', 'mex', 'nic', 'pan', 'pry', 'per', 'dom', 'ury'], 'choice_filter': None, 'calculation': None, 'messages': {}},
            'city': {'type': 'select_one', 'group': 'case', 'required': True, 'relevant': None, 'constraint': None, 'range': None, 'choices': ['buenos_aires', 'cordoba', 'rosario', 'mendoza', 'belmopan', 'belize_city', 'san_ignacio', 'orange_walk', 'la_paz', 'santa_cruz', 'el_alto', 'cochabamba', 'santiago', 'valparaiso', 'concepcion', 'antofagasta', 'bogota', 'medellin', 'cali', 'barranquilla', 'san_jose', 'alajuela', 'limon', 'puntarenas', 'quito', 'guayaquil', 'cuenca', 'machala', 'san_salvador', 'santa_ana', 'san_miguel', 'sonsonate', 'ciudad_de_guatemala', 'quetzaltenango', 'escuintla', 'puerto_barrios', 'tegucigalpa', 'san_pedro_sula', 'la_ceiba', 'choluteca', 'ciudad_de_mexico', 'guadalajara', 'monterrey', 'tijuana', 'managua', 'leon', 'masaya', 'chinandega', 'ciudad_de_panama', 'colon', 'david', 'asuncion', 'ciudad_del_este', 'encarnacion', 'lima', 'arequipa', 'trujillo', 'chiclayo', 'santo_domingo', 'santiago_dr', 'la_romana', 'puerto_plata', 'montevideo', 'salto', 'paysandu', 'maldonado'], 'choice_filter': {'expression': 'country=${country}', 'terms': [['country', 'country']], 'allowed': {'buenos_aires': ['arg'], 'cordoba': ['arg'], 'rosario': ['arg'], 'mendoza': ['arg'], 'belmopan': ['blz'], 'belize_city': ['blz'], 'san_ignacio': ['blz'], 'orange_walk': ['blz'], 'la_paz': ['bol'], 'santa_cruz': ['bol'], 'el_alto': ['bol'], 'cochabamba': ['bol'], 'santiago': ['chl'], 'valparaiso': ['chl'], 'concepcion': ['chl'], 'antofagasta': ['chl'], 'bogota': ['col'], 'medellin': ['col'], 'cali': ['col'], 'barranquilla': ['col'], 'san_jose': ['cri'], 'alajuela': ['cri'], 'limon': ['cri'], 'puntarenas': ['cri'], 'quito': ['ecu'], 'guayaquil': ['ecu'], 'cuenca': ['ecu'], 'machala': ['ecu'], 'san_salvador': ['slv'], 'santa_ana': ['slv'], 'san_miguel': ['slv'], 'sonsonate': ['slv'], 'ciudad_de_guatemala': ['gtm'], 'quetzaltenango': ['gtm'], 'escuintla': ['gtm'], 'puerto_barrios': ['gtm'], 'tegucigalpa': ['hnd'], 'san_pedro_sula': ['hnd'], 'la_ceiba': ['hnd'], 'choluteca': ['hnd'], 'ciudad_de_mexico': ['mex'], 'guadalajara': ['mex'], 'monterrey': ['mex'], 'tijuana': ['mex'], 'managua': ['nic'], 'leon': ['nic'], 'masaya': ['nic'], 'chinandega': ['nic'], 'ciudad_de_panama': ['pan'], 'colon': ['pan'], 'david': ['pan'], 'asuncion': ['pry'], 'ciudad_del_este': ['pry'], 'encarnacion': ['pry'], 'lima': ['per'], 'arequipa': ['per'], 'trujillo': ['per'], 'chiclayo': ['per'], 'santo_domingo': ['dom'], 'santiago_dr': ['dom'], 'la_romana': ['dom'], 'puerto_plata': ['dom'], 'montevideo': ['ury'], 'salto': ['ury'], 'paysandu': ['ury'], 'maldonado': ['ury']}}, 'calculation': None, 'messages': {}},
            'case_code': {'type': 'text', 'group': 'case', 'required': True, 'relevant': None, 'constraint': "regex(., '^[A-Z]{3}-20[0-9]{2}-[0-9]{3,4}$')", 'range': None, 'choices': None, 'choice_filter': None, 'calculation': None, 'messages': {'constraint': {'es': 'El código no tiene el formato correcto. Ejemplo: PRY-2025-014.', 'en': 'The code is not in the right format. Example: PRY-2025-014.', 'pt': 'O código não está no formato correto. Exemplo: PRY-2025-014.'}}},
            'report_date': {'type': 'date', 'group': 'case', 'required': True, 'relevant': None, 'constraint': ". <= today() and . >= date('2020-01-01')", 'range': None, 'choices': None, 'choice_filter': None, 'calculation': None, 'messages': {'constraint': {'es': 'La fecha no puede ser futura ni anterior a 2020.', 'en': 'The date cannot be in the future or before 2020.', 'pt': 'A data não pode ser futura nem anterior a 2020.'}}},
            'consent_record': {'type': 'select_one', 'group': 'case', 'required': True, 'relevant': None, 'constraint': None, 'range': None, 'choices': ['yes', 'no'], 'choice_filter': None, 'calculation': None, 'messages': {}},
            'consent_report': {'type': 'select_one', 'group': 'case', 'required': True, 'relevant': "${consent_record} = 'yes'", 'constraint': None, 'range': None, 'choices': ['yes', 'referral_only', 'no'], 'choice_filter': None, 'calculation': None, 'messages': {}},
            'age': {'type': 'integer', 'group': 'person', 'required': True, 'relevant': "${consent_record} = 'yes'", 'constraint': '. >= 18 and . <= 90', 'range': [18, 90], 'choices': None, 'choice_filter': None, 'calculation': None, 'messages': {'constraint': {'es': 'La edad debe estar entre 18 y 90 años.', 'en': 'Age must be between 18 and 90.', 'pt': 'A idade deve estar entre 18 e 90 anos.'}, 'required': {'es': 'Esta respuesta es obligatoria.', 'en': 'This answer is required.', 'pt': 'Esta resposta é obrigatória.'}}},
            'gender': {'type': 'select_one', 'group': 'person', 'required': True, 'relevant': "${consent_record} = 'yes'", 'constraint': None, 'range': None, 'choices': ['woman', 'trans_woman', 'man', 'non_binary', 'other'], 'choice_filter': None, 'calculation': None, 'messages': {}},
            'nationality': {'type': 'select_one', 'group': 'person', 'required': True, 'relevant': "${consent_record} = 'yes'", 'constraint': None, 'range': None, 'choices': ['national', 'foreign'], 'choice_filter': None, 'calculation': None, 'messages': {}},
            'reported_to': {'type': 'select_multiple', 'group': 'response', 'required': True, 'relevant': "${consent_record} = 'yes'", 'constraint': "not(selected(., 'none') and count-selected(.) > 1)", 'range': None, 'choices': ['police', 'prosecutor', 'ombudsperson', 'health_service', 'organisation', 'none'], 'choice_filter': None, 'calculation': None, 'messages': {'constraint': {'es': '«En ningún lugar» no se puede marcar junto con otras opciones.', 'en': "'Nowhere' cannot be marked together with other options.", 'pt': '«Em nenhum lugar» não pode ser marcado junto com outras opções.'}}},
            'response_received': {'type': 'select_one', 'group': 'response', 'required': True, 'relevant': "(${consent_record} = 'yes') and (not(selected(${reported_to}, 'none')))", 'constraint': None, 'range': None, 'choices': ['none', 'pending', 'partial', 'satisfactory'], 'choice_filter': None, 'calculation': None, 'messages': {}},
            'referral': {'type': 'select_multiple', 'group': 'response', 'required': True, 'relevant': "${consent_record} = 'yes'", 'constraint': "not(selected(., 'none') and count-selected(.) > 1)", 'range': None, 'choices': ['legal', 'health', 'psychological', 'shelter', 'none'], 'choice_filter': None, 'calculation': None, 'messages': {'constraint': {'es': '«Ninguno» no se puede marcar junto con otras opciones.', 'en': "'None' cannot be marked together with other options.", 'pt': '«Nenhum» não pode ser marcado junto com outras opções.'}}},
            'follow_up_date': {'type': 'date', 'group': 'response', 'required': False, 'relevant': "(${consent_record} = 'yes') and (not(selected(${referral}, 'none')))", 'constraint': '. >= ${report_date}', 'range': None, 'choices': None, 'choice_filter': None, 'calculation': None, 'messages': {'constraint': {'es': 'El seguimiento no puede ser anterior al registro del caso.', 'en': 'The follow-up cannot be before the case was recorded.', 'pt': 'O acompanhamento não pode ser anterior ao registro do caso.'}}},
        },
        'dropped': ['documenter_id', 'victim_name', 'victim_phone'],
        'meta': {'_uuid': {'type': 'text', 'unique': 'first'}, '_submission_time': {'type': 'dateTime', 'not_future': True}},
    },
    'incidents': {
        'form_id': 'rights_violation',
        'version': '2026.1',
        'level': 'incidents',
        'columns': {
            'incident_date': {'type': 'date', 'group': 'incidents', 'required': True, 'relevant': "${consent_record} = 'yes'", 'constraint': '. <= today() and . <= ${report_date}', 'range': None, 'choices': None, 'choice_filter': None, 'calculation': None, 'messages': {'constraint': {'es': 'La fecha del hecho no puede ser futura ni posterior al registro.', 'en': 'The incident date cannot be in the future or after the case was recorded.', 'pt': 'A data da ocorrência não pode ser futura nem posterior ao registro.'}}},
            'place_type': {'type': 'select_one', 'group': 'incidents', 'required': True, 'relevant': "${consent_record} = 'yes'", 'constraint': None, 'range': None, 'choices': ['street', 'venue', 'police_station', 'health_facility', 'home', 'online', 'other'], 'choice_filter': None, 'calculation': None, 'messages': {}},
            'violation_type': {'type': 'select_multiple', 'group': 'incidents', 'required': True, 'relevant': "${consent_record} = 'yes'", 'constraint': None, 'range': None, 'choices': ['physical', 'sexual', 'verbal', 'arbitrary_detention', 'extortion', 'robbery', 'denial_of_care', 'forced_testing', 'disclosure', 'other'], 'choice_filter': None, 'calculation': None, 'messages': {}},
            'perpetrator': {'type': 'select_one', 'group': 'incidents', 'required': True, 'relevant': "${consent_record} = 'yes'", 'constraint': None, 'range': None, 'choices': ['police', 'client', 'health_worker', 'partner', 'other'], 'choice_filter': None, 'calculation': None, 'messages': {}},
        },
        'dropped': ['incident_gps', 'violation_other', 'perpetrator_other'],
        'meta': {'_parent_uuid': {'type': 'text', 'parent': '_uuid'}},
    },
}


def schema(level="submission"):
    """The pandera DataFrameSchema of one level ('submission' or a repeat's name), with hand-written checks."""
    return build_schema(SPECS[level], load_extras_from(__file__, FORM_ID))
