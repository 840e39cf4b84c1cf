"""Codebooks: what every column of a form's data means, in Spanish, English or Portuguese.

For each question: its column name, label, type, codes with their labels, whether it is
required, and its skip logic and rules *in plain words* ("Se pregunta si «Nacionalidad» es
«Vengo de otro país»"), read from the form's own expressions by :func:`describe`. Written as a
self-contained HTML page and an XLSX workbook (sheets ``codebook`` and ``choices``).

Examples
--------
>>> from research_kit.forms import load_form
>>> form = load_form("community_survey")
>>> describe("${nationality} = 'foreign'", form, "en")
"'Are you from this country or from another country?' is 'I come from another country'"
>>> describe(". >= 18 and . <= 90", form, "es", current="age")
'la respuesta es mayor o igual que 18 y la respuesta es menor o igual que 90'
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from research_kit.errors import FormError, ParameterError
from research_kit.forms.expressions import Node, parse
from research_kit.forms.model import Field, Form

__all__ = ["describe", "codebook_table", "choices_table", "write_codebook", "LANGUAGES"]

LANGUAGES = ("es", "en", "pt")

_WORDS = {
    "es": {"and": "y", "or": "o", "=": "es", "!=": "no es", ">": "es mayor que", "<": "es menor que",
           ">=": "es mayor o igual que", "<=": "es menor o igual que", "answer": "la respuesta", "not": "no se cumple que",
           "selected": "en {field} se marcó {option}", "count": "la cantidad de opciones marcadas en {field}",
           "regex": "{field} tiene el formato {pattern}", "today": "hoy", "now": "ahora", "blank": "vacío",
           "if": "si {c}, {a}; si no, {b}", "length": "el largo de {field}", "true": "verdadero", "false": "falso",
           "asked_if": "Se pregunta si ", "always": "Siempre", "must": "Debe cumplir: ", "yes": "Sí", "no": "No",
           "when": "Sí, cuando ", "calc": "Se calcula: ", "filter": "Opciones según: "},
    "en": {"and": "and", "or": "or", "=": "is", "!=": "is not", ">": "is greater than", "<": "is less than",
           ">=": "is at least", "<=": "is at most", "answer": "the answer", "not": "it is not the case that",
           "selected": "{option} was marked in {field}", "count": "the number of options marked in {field}",
           "regex": "{field} has the format {pattern}", "today": "today", "now": "now", "blank": "blank",
           "if": "if {c}, {a}; otherwise {b}", "length": "the length of {field}", "true": "true", "false": "false",
           "asked_if": "Asked if ", "always": "Always", "must": "Must hold: ", "yes": "Yes", "no": "No",
           "when": "Yes, when ", "calc": "Calculated: ", "filter": "Options depend on: "},
    "pt": {"and": "e", "or": "ou", "=": "é", "!=": "não é", ">": "é maior que", "<": "é menor que",
           ">=": "é maior ou igual a", "<=": "é menor ou igual a", "answer": "a resposta", "not": "não é verdade que",
           "selected": "em {field} foi marcado {option}", "count": "a quantidade de opções marcadas em {field}",
           "regex": "{field} tem o formato {pattern}", "today": "hoje", "now": "agora", "blank": "vazio",
           "if": "se {c}, {a}; senão, {b}", "length": "o comprimento de {field}", "true": "verdadeiro", "false": "falso",
           "asked_if": "Perguntado se ", "always": "Sempre", "must": "Deve cumprir: ", "yes": "Sim", "no": "Não",
           "when": "Sim, quando ", "calc": "Calculado: ", "filter": "Opções conforme: "},
}

_HEADERS = {
    "es": {"group": "Sección", "name": "Columna", "label": "Pregunta", "type": "Tipo", "codes": "Códigos y etiquetas",
           "required": "Obligatoria", "relevant": "Salto (cuándo se pregunta)", "constraint": "Regla",
           "note": "Observaciones", "list": "Lista", "code": "Código", "title": "Libro de códigos",
           "identifying": "Dato que identifica a una persona: nunca se lee para el análisis.",
           "pseudonym": "Identificador: se reemplaza por un seudónimo con clave antes del análisis."},
    "en": {"group": "Section", "name": "Column", "label": "Question", "type": "Type", "codes": "Codes and labels",
           "required": "Required", "relevant": "Skip logic (when it is asked)", "constraint": "Rule",
           "note": "Notes", "list": "List", "code": "Code", "title": "Codebook",
           "identifying": "Identifies a person: never read into analysis data.",
           "pseudonym": "Identifier: replaced by a keyed pseudonym before analysis."},
    "pt": {"group": "Seção", "name": "Coluna", "label": "Pergunta", "type": "Tipo", "codes": "Códigos e rótulos",
           "required": "Obrigatória", "relevant": "Salto (quando é perguntada)", "constraint": "Regra",
           "note": "Observações", "list": "Lista", "code": "Código", "title": "Livro de códigos",
           "identifying": "Identifica uma pessoa: nunca é lido para a análise.",
           "pseudonym": "Identificador: substituído por um pseudônimo com chave antes da análise."},
}
_TYPES = {
    "select_one": ("Selección única", "Single choice", "Escolha única"),
    "select_multiple": ("Selección múltiple (códigos separados por espacios)", "Multiple choice (codes separated by spaces)",
                        "Escolha múltipla (códigos separados por espaços)"),
    "integer": ("Número entero", "Whole number", "Número inteiro"),
    "decimal": ("Número", "Number", "Número"),
    "date": ("Fecha (AAAA-MM-DD)", "Date (YYYY-MM-DD)", "Data (AAAA-MM-DD)"),
    "text": ("Texto", "Text", "Texto"),
    "calculate": ("Cálculo", "Calculation", "Cálculo"),
    "start": ("Inicio de la entrevista (fecha y hora)", "Start of the interview (date and time)",
              "Início da entrevista (data e hora)"),
    "end": ("Fin de la entrevista (fecha y hora)", "End of the interview (date and time)", "Fim da entrevista (data e hora)"),
    "today": ("Fecha de la entrevista", "Date of the interview", "Data da entrevista"),
    "deviceid": ("Identificador del teléfono", "Device id", "Identificador do aparelho"),
    "geopoint": ("Ubicación GPS", "GPS location", "Localização GPS"),
    "note": ("Nota (sin respuesta)", "Note (no answer)", "Nota (sem resposta)"),
}
_SHORT = 70


def _check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise ParameterError(f"The 'language' parameter must be one of {', '.join(LANGUAGES)}. Got {language!r} instead.")
    return language


def _short(text: str) -> str:
    text = " ".join(text.replace("*", "").split())
    return text if len(text) <= _SHORT else text[: _SHORT - 1].rstrip() + "…"


def _quote(text: str, language: str) -> str:
    return f"'{text}'" if language == "en" else f"«{text}»"


def describe(expression: str, form: Form, language: str = "es", current: str | None = None) -> str:
    """An XLSForm expression in plain words, with the form's own labels for questions and codes."""
    _check_language(language)
    words = _WORDS[language]

    def field_of(node: Node) -> Field | None:
        name = node.value if node.kind == "field" else current if node.kind == "current" else None
        return form.field(name) if name and name in form else None

    def name(node: Node) -> str:
        if node.kind == "current":
            return words["answer"]
        f = field_of(node)
        return _quote(_short(f.label(language)) if f and f.labels else node.value, language)

    def value(node: Node, other: Node | None) -> str:
        if node.kind == "str":
            f = field_of(other) if other is not None else None
            if f is not None and f.is_select and node.value:
                try:
                    return _quote(_short(form.choice_label(f.name, node.value, language)), language)
                except FormError:
                    pass
            return _quote(node.value, language) if node.value else words["blank"]
        if node.kind == "num":
            v = node.value
            return str(int(v)) if float(v).is_integer() else str(v)
        return walk(node)

    def walk(node: Node) -> str:
        k = node.kind
        if k in ("field", "current"):
            return name(node)
        if k in ("str", "num"):
            return value(node, None)
        if k == "neg":
            return f"-{walk(node.args[0])}"
        if k == "binop":
            op, (a, b) = node.value, node.args
            if op in ("and", "or"):
                return f"{walk(a)} {words[op]} {walk(b)}"
            if op in ("=", "!=", ">", "<", ">=", "<="):
                return f"{walk(a)} {words[op]} {value(b, a)}"
            symbol = {"+": "+", "-": "−", "*": "×", "div": "÷", "mod": "mod"}[op]
            return f"{walk(a)} {symbol} {walk(b)}"
        args = node.args
        fn = node.value
        if fn == "selected":
            text = words["selected"].format(field=walk(args[0]), option=value(args[1], args[0]))
            return text.replace("em a resposta", "na resposta")  # Portuguese contracts em + a
        if fn == "count-selected":
            return words["count"].format(field=walk(args[0])).replace("em a resposta", "na resposta")
        if fn == "not":
            return f"{words['not']} ({walk(args[0])})"
        if fn == "regex":
            return words["regex"].format(field=walk(args[0]), pattern=walk(args[1]))
        if fn in ("today", "now", "true", "false"):
            return words[fn]
        if fn == "if":
            return words["if"].format(c=walk(args[0]), a=walk(args[1]), b=walk(args[2]))
        if fn == "string-length":
            return words["length"].format(field=walk(args[0]))
        if fn in ("date", "number", "int", "string", "decimal-date-time", "boolean") and args:
            return walk(args[0])
        return f"{fn}({', '.join(walk(a) for a in args)})"

    return walk(parse(expression).tree)


def codebook_table(form: Form, language: str = "es") -> pd.DataFrame:
    """One row per question (groups as section names): the codebook as a table."""
    _check_language(language)
    from research_kit.forms.schema import load_extras

    h, words = _HEADERS[language], _WORDS[language]
    index = LANGUAGES.index(language)
    pseudonymised = set(load_extras(form).pseudonymised)
    rows = []
    for f in form.fields:
        group = " / ".join(form.group(g).label(language) for g in f.groups)
        codes = ""
        if f.is_select:
            codes = "; ".join(f"{c.name} = {c.label(language)}" for c in form.choice_list(f.list_name))
        required = words["no"]
        if f.is_required:
            required = words["yes"]
        elif f.required and f.required.strip().lower() not in ("no", "false", "false()"):
            required = words["when"] + describe(f.required, form, language)
        relevant = words["asked_if"] + describe(f.all_relevant, form, language) if f.all_relevant else words["always"]
        rule = words["must"] + describe(f.constraint, form, language, current=f.name) if f.constraint else ""
        if f.constraint and f.constraint_messages.get(language):
            rule += f" ({f.constraint_messages[language]})"
        if f.calculation:
            rule = words["calc"] + describe(f.calculation, form, language)
        if f.choice_filter:
            rule = (rule + " " if rule else "") + words["filter"] + f.choice_filter
        notes = []
        if f.identifying:
            notes.append(h["identifying"])
        if f.name in pseudonymised:
            notes.append(h["pseudonym"])
        rows.append({
            h["group"]: group,
            h["name"]: f.name,
            h["label"]: " ".join(f.label(language).replace("**", "").split()) if f.labels else "",
            h["type"]: _TYPES.get(f.type, (f.type,) * 3)[index],
            h["codes"]: codes,
            h["required"]: required,
            h["relevant"]: relevant,
            h["constraint"]: rule,
            h["note"]: " ".join(notes),
        })
    return pd.DataFrame(rows)


def choices_table(form: Form, language: str = "es") -> pd.DataFrame:
    """Every choice list: list name, code and label in ``language``."""
    h = _HEADERS[_check_language(language)]
    return pd.DataFrame([{h["list"]: name, h["code"]: c.name, h["label"]: c.label(language)}
                         for name, options in form.choices.items() for c in options])


_CSS = """body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:90rem;
padding:0 1rem;color:#222;line-height:1.35}h1{font-size:1.5rem}table{border-collapse:collapse;font-size:.85rem}
td,th{border:1px solid #ccc;padding:.3rem .45rem;text-align:left;vertical-align:top}th{background:#f2f2f2;position:sticky;top:0}
td.name{font-family:ui-monospace,monospace;white-space:nowrap}tr.note td{color:#555}"""


def _html(form: Form, table: pd.DataFrame, language: str) -> str:
    h = _HEADERS[language]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = []
    for row in table.itertuples(index=False):
        cells = []
        for col, value in zip(table.columns, row):
            cls = " class='name'" if col == h["name"] else ""
            cells.append(f"<td{cls}>{html.escape(str(value))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    title = f"{h['title']}: {form.title}"
    return (f"<!DOCTYPE html><html lang='{language}'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>"
            f"<p>{html.escape(form.form_id)} · {html.escape(form.version)}</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></body></html>")


def write_codebook(form: Form | str | Path, out_dir: str | Path, languages: str | list[str] = LANGUAGES) -> list[Path]:
    """Write ``<form_id>_codebook_<lang>.html`` and ``.xlsx`` for each language; return the paths.

    Examples
    --------
    >>> import tempfile
    >>> [p.name for p in write_codebook("health_services", tempfile.mkdtemp(), languages="en")]
    ['health_services_codebook_en.html', 'health_services_codebook_en.xlsx']
    """
    from openpyxl.styles import Alignment, Font

    from research_kit.forms import load_form

    form = load_form(form)
    languages = [languages] if isinstance(languages, str) else list(languages)
    for language in languages:
        _check_language(language)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for language in languages:
        table = codebook_table(form, language)
        page = out / f"{form.form_id}_codebook_{language}.html"
        page.write_text(_html(form, table, language), encoding="utf-8")
        book = out / f"{form.form_id}_codebook_{language}.xlsx"
        with pd.ExcelWriter(book, engine="openpyxl") as xl:
            table.to_excel(xl, sheet_name="codebook", index=False)
            choices_table(form, language).to_excel(xl, sheet_name="choices", index=False)
            for sheet in xl.book.worksheets:
                sheet.freeze_panes = "A2"
                for cell in sheet[1]:
                    cell.font = Font(bold=True)
                for column in sheet.columns:
                    width = min(60, max(10, *(len(str(c.value or "")) for c in column[:200])))
                    sheet.column_dimensions[column[0].column_letter].width = width
                    for c in column[1:]:
                        c.alignment = Alignment(wrap_text=True, vertical="top")
        written += [page, book]
    return written
