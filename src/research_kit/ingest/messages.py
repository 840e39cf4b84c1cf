"""Messages of the validator in Spanish (default), English and Portuguese.

A message names the file, the row, the column, the value and the rule, says what is wrong in
plain words, and what to do. Where the form has its own ``constraint_message::<language>`` or
``required_message::<language>`` for the question, that text is used for what is wrong, as the
interviewer saw it on the phone.

The catalogue is a plain dictionary rather than a gettext domain: it is small, it is
validated by a test (every key in every language, the same placeholders everywhere), and it
keeps the report layer's catalogues in ``research_kit/locale`` untouched.

Examples
--------
>>> message("type", "es", file="a.csv", row=17, column="age", value="abc", rule="type: integer", type="integer")
'a.csv, fila 17, columna «age»: el valor «abc» no es un número entero (regla: type: integer). Corrija la respuesta en KoboToolbox u ODK Central y exporte los datos de nuevo.'
>>> message("required", "en", file="a.csv", row=3, column="age", value="", rule="required")
"a.csv, row 3, column 'age': the answer is missing, and the question is required (rule: required). Fill it in in KoboToolbox or ODK Central, or mark the record as incomplete."
"""

from __future__ import annotations

import re

from research_kit.errors import ParameterError

__all__ = ["LANGUAGES", "MESSAGES", "message", "check_language", "UI"]

LANGUAGES = ("es", "en", "pt")

_WHERE = {
    "es": "{file}, fila {row}, columna «{column}»: ",
    "en": "{file}, row {row}, column '{column}': ",
    "pt": "{file}, linha {row}, coluna «{column}»: ",
}
_WHERE_ROW = {"es": "{file}, fila {row}: ", "en": "{file}, row {row}: ", "pt": "{file}, linha {row}: "}
_RULE = {"es": " (regla: {rule}). ", "en": " (rule: {rule}). ", "pt": " (regra: {rule}). "}

_FIX = {
    "es": "Corrija la respuesta en KoboToolbox u ODK Central y exporte los datos de nuevo.",
    "en": "Correct the answer in KoboToolbox or ODK Central and export the data again.",
    "pt": "Corrija a resposta no KoboToolbox ou no ODK Central e exporte os dados de novo.",
}
_EXCEL = {
    "es": "Parece un número que Excel convirtió a notación científica: exporte de nuevo desde el servidor y no abra "
          "el archivo en Excel antes de validarlo.",
    "en": "It looks like a number Excel turned into scientific notation: export again from the server and do not open "
          "the file in Excel before validating it.",
    "pt": "Parece um número que o Excel converteu para notação científica: exporte de novo do servidor e não abra o "
          "arquivo no Excel antes de validá-lo.",
}
_TYPE_NAMES = {
    "integer": {"es": "un número entero", "en": "a whole number", "pt": "um número inteiro"},
    "decimal": {"es": "un número", "en": "a number", "pt": "um número"},
    "date": {"es": "una fecha válida (AAAA-MM-DD)", "en": "a valid date (YYYY-MM-DD)", "pt": "uma data válida (AAAA-MM-DD)"},
    "dateTime": {"es": "una fecha y hora válidas", "en": "a valid date and time", "pt": "uma data e hora válidas"},
    "time": {"es": "una hora válida", "en": "a valid time", "pt": "uma hora válida"},
}

#: key -> language -> (problem, what to do). Placeholders: file, row, column, value, rule, and the key's own.
MESSAGES: dict[str, dict[str, tuple[str, str]]] = {
    "type": {
        "es": ("el valor «{value}» no es {type_name}", _FIX["es"]),
        "en": ("the value '{value}' is not {type_name}", _FIX["en"]),
        "pt": ("o valor «{value}» não é {type_name}", _FIX["pt"]),
    },
    "choices": {
        "es": ("«{value}» no es una de las opciones de la pregunta ({choices})", _FIX["es"]),
        "en": ("'{value}' is not one of the question's options ({choices})", _FIX["en"]),
        "pt": ("«{value}» não é uma das opções da pergunta ({choices})", _FIX["pt"]),
    },
    "choices_multiple": {
        "es": ("«{value}» tiene opciones que la pregunta no tiene: {unknown}", _FIX["es"]),
        "en": ("'{value}' holds options the question does not have: {unknown}", _FIX["en"]),
        "pt": ("«{value}» tem opções que a pergunta não tem: {unknown}", _FIX["pt"]),
    },
    "choice_filter": {
        "es": ("«{value}» no es una opción permitida cuando {filter}", _FIX["es"]),
        "en": ("'{value}' is not an allowed option when {filter}", _FIX["en"]),
        "pt": ("«{value}» não é uma opção permitida quando {filter}", _FIX["pt"]),
    },
    "constraint": {
        "es": ("el valor «{value}» no cumple la condición de la pregunta{form_message}", _FIX["es"]),
        "en": ("the value '{value}' breaks the question's condition{form_message}", _FIX["en"]),
        "pt": ("o valor «{value}» não cumpre a condição da pergunta{form_message}", _FIX["pt"]),
    },
    "relevant": {
        "es": ("hay una respuesta («{value}») aunque, según el salto del formulario, la pregunta no correspondía",
               "Revise las respuestas anteriores de este registro en KoboToolbox u ODK Central: una de ellas o esta "
               "respuesta está mal."),
        "en": ("there is an answer ('{value}') although, by the form's skip logic, the question did not apply",
               "Check this record's earlier answers in KoboToolbox or ODK Central: one of them, or this answer, is "
               "wrong."),
        "pt": ("há uma resposta («{value}») embora, pelo salto do formulário, a pergunta não se aplicasse",
               "Revise as respostas anteriores deste registro no KoboToolbox ou no ODK Central: uma delas, ou esta "
               "resposta, está errada."),
    },
    "required": {
        "es": ("falta la respuesta, y la pregunta es obligatoria{form_message}",
               "Complétela en KoboToolbox u ODK Central, o marque el registro como incompleto."),
        "en": ("the answer is missing, and the question is required{form_message}",
               "Fill it in in KoboToolbox or ODK Central, or mark the record as incomplete."),
        "pt": ("falta a resposta, e a pergunta é obrigatória{form_message}",
               "Preencha no KoboToolbox ou no ODK Central, ou marque o registro como incompleto."),
    },
    "calculation": {
        "es": ("el valor «{value}» no es el que calcula el formulario («{expected}»)",
               "Exporte de nuevo con la versión del formulario con la que se recogieron los datos."),
        "en": ("the value '{value}' is not what the form calculates ('{expected}')",
               "Export again with the form version the data were collected with."),
        "pt": ("o valor «{value}» não é o que o formulário calcula («{expected}»)",
               "Exporte de novo com a versão do formulário com que os dados foram coletados."),
    },
    "not_future": {
        "es": ("la fecha «{value}» está en el futuro",
               "Revise la fecha y la hora del teléfono o tableta y corrija el registro."),
        "en": ("the date '{value}' is in the future", "Check the date and time of the phone or tablet and correct the record."),
        "pt": ("a data «{value}» está no futuro", "Verifique a data e a hora do celular ou tablet e corrija o registro."),
    },
    "unique_copy": {
        "es": ("el envío «{value}» ya aparece en {first}: es una copia",
               "Quite la copia (por ejemplo, al juntar exportaciones que se superponen)."),
        "en": ("the submission '{value}' already appears at {first}: this is a copy",
               "Remove the copy (for example, when joining exports that overlap)."),
        "pt": ("o envio «{value}» já aparece em {first}: é uma cópia",
               "Remova a cópia (por exemplo, ao juntar exportações que se sobrepõem)."),
    },
    "unique": {
        "es": ("el valor «{value}» se repite en {others}, y cada valor debe aparecer una sola vez",
               "Busque en el registro de cupones o de casos cuál es el correcto y corrija los demás."),
        "en": ("the value '{value}' repeats at {others}, and each value must appear only once",
               "Look up the coupon or case log to see which is right, and correct the others."),
        "pt": ("o valor «{value}» se repete em {others}, e cada valor deve aparecer uma só vez",
               "Consulte o registro de cupons ou de casos para ver qual é o correto e corrija os demais."),
    },
    "reference": {
        "es": ("«{value}» no es el {target} de nadie en los datos",
               "Corrija el número con el registro de cupones, agregue el registro que falta, o marque a la "
               "participante como semilla."),
        "en": ("'{value}' is nobody's {target} in the data",
               "Correct the number from the coupon log, add the missing record, or mark the participant as a seed."),
        "pt": ("«{value}» não é o {target} de ninguém nos dados",
               "Corrija o número pelo registro de cupons, acrescente o registro que falta, ou marque a participante "
               "como semente."),
    },
    "reference_quarantined": {
        "es": ("«{value}» es el {target} de un registro puesto en cuarentena ({first}); este registro se aceptó",
               "Corrija aquel registro para que la cadena de reclutamiento quede completa."),
        "en": ("'{value}' is the {target} of a record that was quarantined ({first}); this record was accepted",
               "Correct that record so that the recruitment chain is complete."),
        "pt": ("«{value}» é o {target} de um registro posto em quarentena ({first}); este registro foi aceito",
               "Corrija aquele registro para que a cadeia de recrutamento fique completa."),
    },
    "parent": {
        "es": ("la fila pertenece al envío «{value}», que no está entre los envíos aceptados",
               "Corrija el envío (o expórtelo) y valide de nuevo."),
        "en": ("the row belongs to the submission '{value}', which is not among the accepted submissions",
               "Correct (or export) that submission and validate again."),
        "pt": ("a linha pertence ao envio «{value}», que não está entre os envios aceitos",
               "Corrija (ou exporte) esse envio e valide de novo."),
    },
    "rule": {
        "es": ("el valor «{value}» no cumple una regla del estudio{form_message}", _FIX["es"]),
        "en": ("the value '{value}' breaks a rule of the study{form_message}", _FIX["en"]),
        "pt": ("o valor «{value}» não cumpre uma regra do estudo{form_message}", _FIX["pt"]),
    },
    "split_mismatch": {
        "es": ("la columna de opciones dice «{value}» pero las columnas 0/1 dicen «{split}»",
               "Exporte de nuevo desde el servidor; no edite las columnas a mano."),
        "en": ("the options column says '{value}' but the 0/1 columns say '{split}'",
               "Export again from the server; do not edit the columns by hand."),
        "pt": ("a coluna de opções diz «{value}» mas as colunas 0/1 dizem «{split}»",
               "Exporte de novo do servidor; não edite as colunas à mão."),
    },
    "line_short": {
        "es": ("la línea «{value}…» tiene {found} campos y el encabezado {expected}: el archivo se cortó o falta un separador",
               "Descargue la exportación de nuevo."),
        "en": ("the line '{value}…' has {found} fields and the header {expected}: the file was cut off or a separator is missing",
               "Download the export again."),
        "pt": ("a linha «{value}…» tem {found} campos e o cabeçalho {expected}: o arquivo foi cortado ou falta um separador",
               "Baixe a exportação de novo."),
    },
    "line_long": {
        "es": ("la línea «{value}…» tiene {found} campos y el encabezado {expected}: un valor tiene un separador suelto",
               "Descargue la exportación de nuevo, o ponga entre comillas el valor que tiene el separador."),
        "en": ("the line '{value}…' has {found} fields and the header {expected}: a value holds a stray separator",
               "Download the export again, or quote the value that holds the separator."),
        "pt": ("a linha «{value}…» tem {found} campos e o cabeçalho {expected}: um valor tem um separador solto",
               "Baixe a exportação de novo, ou coloque entre aspas o valor que tem o separador."),
    },
    "line_truncated": {
        "es": ("la última línea («…{value}») está cortada (una comilla quedó abierta)", "Descargue la exportación de nuevo."),
        "en": ("the last line ('…{value}') is cut off (a quote was left open)", "Download the export again."),
        "pt": ("a última linha («…{value}») está cortada (ficou uma aspa aberta)", "Baixe a exportação de novo."),
    },
    "line_unreadable": {
        "es": ("la línea no se puede leer ({detail})", "Descargue la exportación de nuevo."),
        "en": ("the line cannot be read ({detail})", "Download the export again."),
        "pt": ("a linha não pode ser lida ({detail})", "Baixe a exportação de novo."),
    },
    "mixed_encoding": {
        "es": ("la línea no estaba en UTF-8 y se leyó como Windows-1252 (Excel)",
               "Revise los acentos de este registro; para evitarlo, no junte archivos guardados con distintos "
               "programas."),
        "en": ("the line was not UTF-8 and was read as Windows-1252 (Excel)",
               "Check the accents in this record; to avoid this, do not join files saved by different programs."),
        "pt": ("a linha não estava em UTF-8 e foi lida como Windows-1252 (Excel)",
               "Verifique os acentos deste registro; para evitar isso, não junte arquivos salvos por programas "
               "diferentes."),
    },
    "column_unknown": {
        "es": ("la columna no es del formulario y no se leyó",
               "Si es una pregunta con otro nombre, valide con la versión del formulario que corresponde o use "
               "--rename."),
        "en": ("the column is not in the form and was not read",
               "If it is a question under another name, validate with the matching form version or use --rename."),
        "pt": ("a coluna não é do formulário e não foi lida",
               "Se for uma pergunta com outro nome, valide com a versão do formulário correspondente ou use --rename."),
    },
    "form_version": {
        "es": ("los datos vienen de la versión «{value}» del formulario, no de la {expected}",
               "Valide con la versión del formulario con la que se recogieron los datos."),
        "en": ("the data come from form version '{value}', not {expected}",
               "Validate with the form version the data were collected with."),
        "pt": ("os dados vêm da versão «{value}» do formulário, não da {expected}",
               "Valide com a versão do formulário com que os dados foram coletados."),
    },
}

_ROW_ONLY = frozenset({"line_short", "line_long", "line_truncated", "line_unreadable", "mixed_encoding", "parent"})
_EXCEL_NUMBER = re.compile(r"^-?\d+(?:[.,]\d+)?[eE][+-]?\d+$")


def check_language(language: str) -> str:
    """``language`` if the validator speaks it; a :class:`ParameterError` otherwise."""
    if language not in LANGUAGES:
        raise ParameterError(f"The 'language' parameter must be one of {', '.join(LANGUAGES)}. Got {language!r} instead.")
    return language


def message(key: str, language: str = "es", *, file: str, row: int | str, column: str = "", value: str = "",
            rule: str = "", form_message: str = "", **params) -> str:
    """One message of the catalogue, filled in; see the module examples."""
    problem, action = MESSAGES[key][language]
    if key == "type":
        params["type_name"] = _TYPE_NAMES.get(params.get("type", ""), {}).get(language, params.get("type", ""))
    if _EXCEL_NUMBER.match(str(value)) and key in ("type", "constraint", "rule", "reference"):
        action = _EXCEL[language]
    if form_message:
        form_message = f": {form_message}"
    fields = {"file": file, "row": row, "column": column, "value": value, "rule": rule, "form_message": form_message,
              **params}
    where = (_WHERE_ROW if key in _ROW_ONLY or not column else _WHERE)[language]
    text = where + problem + _RULE[language] + action
    return text.format_map(_Defaults(fields))


class _Defaults(dict):
    def __missing__(self, key):  # a missing parameter shows as '?' rather than failing the whole table
        return "?"


#: Words of the HTML summary.
UI = {
    "title": {"es": "Validación de datos", "en": "Data validation", "pt": "Validação de dados"},
    "form": {"es": "Formulario", "en": "Form", "pt": "Formulário"},
    "files": {"es": "Archivos", "en": "Files", "pt": "Arquivos"},
    "rows_in": {"es": "Filas leídas", "en": "Rows read", "pt": "Linhas lidas"},
    "accepted": {"es": "Aceptadas", "en": "Accepted", "pt": "Aceitas"},
    "quarantined": {"es": "En cuarentena", "en": "Quarantined", "pt": "Em quarentena"},
    "warnings": {"es": "Avisos", "en": "Warnings", "pt": "Avisos"},
    "by_rule": {"es": "Problemas por regla", "en": "Problems by rule", "pt": "Problemas por regra"},
    "by_column": {"es": "Problemas por columna", "en": "Problems by column", "pt": "Problemas por coluna"},
    "details": {"es": "Detalle (primeros {n})", "en": "Details (first {n})", "pt": "Detalhe (primeiros {n})"},
    "all_ok": {"es": "Todas las filas fueron aceptadas.", "en": "Every row was accepted.",
               "pt": "Todas as linhas foram aceitas."},
    "level": {"es": "Nivel", "en": "Level", "pt": "Nível"},
    "file": {"es": "Archivo", "en": "File", "pt": "Arquivo"},
    "row": {"es": "Fila", "en": "Row", "pt": "Linha"},
    "column": {"es": "Columna", "en": "Column", "pt": "Coluna"},
    "value": {"es": "Valor", "en": "Value", "pt": "Valor"},
    "rule": {"es": "Regla", "en": "Rule", "pt": "Regra"},
    "message": {"es": "Mensaje", "en": "Message", "pt": "Mensagem"},
    "count": {"es": "Cantidad", "en": "Count", "pt": "Quantidade"},
    "submission": {"es": "envíos", "en": "submissions", "pt": "envios"},
    "outputs": {"es": "Archivos escritos", "en": "Files written", "pt": "Arquivos gravados"},
    "pseudonyms": {"es": "Identificadores reemplazados por seudónimos: {cols}.",
                   "en": "Identifiers replaced by pseudonyms: {cols}.",
                   "pt": "Identificadores substituídos por pseudônimos: {cols}."},
    "dropped": {"es": "Datos que identifican a personas, nunca leídos: {cols}.",
                "en": "Data that identify people, never read: {cols}.",
                "pt": "Dados que identificam pessoas, nunca lidos: {cols}."},
}
