"""Words of the capacity and coverage outputs in Spanish, English and Portuguese.

Kept here, beside the code that uses them, rather than in the report catalogues: the capacity
reports have their own vocabulary (areas, maturity, plans) and are maintained with this package.
Labels of areas, statements, levels, rounds and priorities are not here: they come from the forms.

Examples
--------
>>> text("plan_heading", "pt")
'Plano de desenvolvimento organizacional e assistência técnica'
>>> text("n_organisations", "es", n=3)
'3 organizaciones'
"""

from __future__ import annotations

from research_kit.i18n import check_language

__all__ = ["MESSAGES", "text"]

MESSAGES: dict[str, tuple[str, str, str]] = {
    # ---- report titles and headings
    "kicker_capacity": ("Evaluación de capacidades organizativas", "Organisational capacity assessment",
                        "Avaliação de capacidades organizacionais"),
    "region_title": ("Región de Latinoamérica y el Caribe", "Latin America and the Caribbean",
                     "América Latina e Caribe"),
    "summary_heading": ("Resumen", "Summary", "Resumo"),
    "radar_heading": ("Capacidades por área", "Capacity by area", "Capacidades por área"),
    "areas_heading": ("Puntaje por área", "Score by area", "Pontuação por área"),
    "items_heading": ("Afirmaciones de cada área", "Statements of each area", "Afirmações de cada área"),
    "plan_heading": ("Plan de desarrollo organizacional y asistencia técnica",
                     "Organisational development and technical assistance plan",
                     "Plano de desenvolvimento organizacional e assistência técnica"),
    "plan_areas_heading": ("Áreas ordenadas por necesidad y prioridad", "Areas ranked by need and priority",
                           "Áreas ordenadas por necessidade e prioridade"),
    "plan_actions_heading": ("Acciones propuestas", "Proposed actions", "Ações propostas"),
    "tracking_heading": ("Seguimiento del plan anterior", "Follow-up of the previous plan",
                         "Acompanhamento do plano anterior"),
    "areas_caption": ("Puntaje de 1 (no existe) a 4 (plenamente) en cada ronda, y cambio entre la primera y la última",
                      "Score from 1 (not in place) to 4 (fully in place) in each round, and change from the first to the last",
                      "Pontuação de 1 (não existe) a 4 (plenamente) em cada rodada, e mudança entre a primeira e a última"),
    "items_caption": ("Nivel de cada afirmación en cada ronda", "Level of each statement in each round",
                      "Nível de cada afirmação em cada rodada"),
    "summary_caption": ("Mediana (mínimo–máximo) del puntaje de las organizaciones nacionales",
                        "Median (minimum–maximum) of the national organisations' scores",
                        "Mediana (mínimo–máximo) da pontuação das organizações nacionais"),
    "heatmap_heading": ("Organizaciones por área", "Organisations by area", "Organizações por área"),
    "group_summary_heading": ("Mediana y rango por área", "Median and range by area", "Mediana e intervalo por área"),
    "change_heading": ("Cambio entre rondas", "Change between rounds", "Mudança entre rodadas"),
    "coverage_heading": ("Cobertura del programa", "Programme coverage", "Cobertura do programa"),
    "notes_heading": ("Notas", "Notes", "Notas"),
    "scale_heading": ("Escala de madurez", "Maturity scale", "Escala de maturidade"),
    "where_heading": ("De dónde vienen estos números", "Where these numbers come from", "De onde vêm estes números"),
    # ---- column headers
    "col_area": ("Área", "Area", "Área"),
    "col_statement": ("Afirmación", "Statement", "Afirmação"),
    "col_score": ("Puntaje", "Score", "Pontuação"),
    "col_priority": ("Prioridad", "Priority", "Prioridade"),
    "col_rank": ("Orden", "Rank", "Ordem"),
    "col_need": ("Necesidad", "Need", "Necessidade"),
    "col_gaps": ("Aún no plenamente", "Not yet fully in place", "Ainda não plenamente"),
    "col_absent": ("No existen", "Not in place", "Não existem"),
    "col_change": ("Cambio", "Change", "Mudança"),
    "col_organisation": ("Organización", "Organisation", "Organização"),
    "col_n_orgs": ("Organizaciones", "Organisations", "Organizações"),
    "col_median": ("Mediana", "Median", "Mediana"),
    "col_range": ("Rango", "Range", "Intervalo"),
    "col_node": ("Nodo", "Node", "Nó"),
    "col_site": ("Sitio", "Site", "Local"),
    "col_country": ("País", "Country", "País"),
    "col_result": ("Resultado", "Result", "Resultado"),
    "col_then": ("Nivel en el plan", "Level in the plan", "Nível no plano"),
    "col_target": ("Meta", "Target", "Meta"),
    "col_now": ("Nivel ahora", "Level now", "Nível agora"),
    # ---- plan file columns
    "plan_action_id": ("N.º", "No.", "N.º"),
    "plan_area": ("Código del área", "Area code", "Código da área"),
    "plan_area_name": ("Área", "Area", "Área"),
    "plan_item": ("Código de la afirmación", "Statement code", "Código da afirmação"),
    "plan_statement": ("Afirmación", "Statement", "Afirmação"),
    "plan_level": ("Nivel actual", "Current level", "Nível atual"),
    "plan_target_level": ("Nivel meta", "Target level", "Nível meta"),
    "plan_action": ("Acción", "Action", "Ação"),
    "plan_owner": ("Responsable", "Owner", "Responsável"),
    "plan_technical_assistance": ("Asistencia técnica necesaria", "Technical assistance needed",
                                  "Assistência técnica necessária"),
    "plan_provider": ("Quién la brinda", "Provided by", "Quem a oferece"),
    "plan_start": ("Inicio (AAAA-MM)", "Start (YYYY-MM)", "Início (AAAA-MM)"),
    "plan_end": ("Fin (AAAA-MM)", "End (YYYY-MM)", "Fim (AAAA-MM)"),
    "plan_indicator": ("Indicador de avance", "Indicator of progress", "Indicador de progresso"),
    "plan_status": ("Estado", "Status", "Situação"),
    "plan_notes": ("Observaciones", "Notes", "Observações"),
    "sheet_actions": ("acciones", "actions", "acoes"),
    "sheet_areas": ("areas", "areas", "areas"),
    "sheet_about": ("acerca", "about", "sobre"),
    "about_organisation": ("Organización", "Organisation", "Organização"),
    "about_round": ("Ronda", "Round", "Rodada"),
    "about_language": ("Idioma", "Language", "Idioma"),
    "about_form_version": ("Versión del formulario", "Form version", "Versão do formulário"),
    "about_created": ("Creado", "Created", "Criado"),
    "about_instructions": (
        "Edite las columnas blancas de la hoja «acciones»: acción, responsable, asistencia técnica, quién la brinda, "
        "fechas, indicador, estado y observaciones. Puede borrar filas o agregar acciones nuevas (con código de área). "
        "No cambie los encabezados ni las columnas grises.",
        "Edit the white columns of the 'actions' sheet: action, owner, technical assistance, provided by, dates, "
        "indicator, status and notes. You may delete rows or add new actions (with an area code). Do not change the "
        "headers or the grey columns.",
        "Edite as colunas brancas da planilha «acoes»: ação, responsável, assistência técnica, quem a oferece, datas, "
        "indicador, situação e observações. Pode apagar linhas ou acrescentar ações novas (com código de área). Não "
        "mude os cabeçalhos nem as colunas cinzas."),
    # ---- plan vocabularies
    "provider_node": ("Nodo", "Node", "Nó"),
    "provider_secretariat": ("Secretaría", "Secretariat", "Secretaria"),
    "provider_partner": ("Socio", "Partner", "Parceiro"),
    "provider_none": ("Ninguno", "None", "Nenhum"),
    "status_planned": ("Planificada", "Planned", "Planejada"),
    "status_in_progress": ("En curso", "In progress", "Em andamento"),
    "status_done": ("Hecha", "Done", "Feita"),
    "status_dropped": ("Descartada", "Dropped", "Descartada"),
    "action_put_in_place": ("Poner en marcha: {statement}", "Put in place: {statement}", "Implantar: {statement}"),
    "action_strengthen": ("Fortalecer: {statement}", "Strengthen: {statement}", "Fortalecer: {statement}"),
    "ta_in_area": ("Asistencia técnica en {area}", "Technical assistance in {area}", "Assistência técnica em {area}"),
    "indicator_item": ("La afirmación llega al nivel {level} ({name}) o más en la próxima ronda",
                       "The statement reaches level {level} ({name}) or higher in the next round",
                       "A afirmação chega ao nível {level} ({name}) ou mais na próxima rodada"),
    "result_achieved": ("Meta alcanzada", "Target reached", "Meta alcançada"),
    "result_improved": ("Mejoró, sin llegar a la meta", "Improved, target not reached", "Melhorou, sem chegar à meta"),
    "result_unchanged": ("Sin cambio", "No change", "Sem mudança"),
    "result_worse": ("Empeoró", "Worse", "Piorou"),
    "result_not_assessed": ("No evaluada todavía", "Not assessed yet", "Ainda não avaliada"),
    # ---- sentences
    "n_organisations": ("{n} organizaciones", "{n} organisations", "{n} organizações"),
    "org_summary": (
        "Ronda: {round} ({date}). Puntaje medio de las áreas de 1 (no existe) a 4 (plenamente). Áreas más fuertes: "
        "{strong}. Áreas con más necesidad: {weak}.",
        "Round: {round} ({date}). Mean score of the areas from 1 (not in place) to 4 (fully in place). Strongest "
        "areas: {strong}. Areas with most need: {weak}.",
        "Rodada: {round} ({date}). Pontuação média das áreas de 1 (não existe) a 4 (plenamente). Áreas mais "
        "fortes: {strong}. Áreas com mais necessidade: {weak}."),
    "group_summary": (
        "{n} organizaciones en la ronda {round}. Las comparaciones son entre organizaciones, no entre personas: "
        "cada organización responde una vez por ronda.",
        "{n} organisations in round {round}. Comparisons are between organisations, not people: each organisation "
        "answers once per round.",
        "{n} organizações na rodada {round}. As comparações são entre organizações, não entre pessoas: cada "
        "organização responde uma vez por rodada."),
    "left_out": (
        "No se muestran las organizaciones que no respondieron en una ronda ni las que pidieron no aparecer con su "
        "nombre en los informes de nodo y regionales; sus resultados tampoco entran en medianas, rangos ni totales.",
        "Organisations that did not answer in a round, and those that asked not to be named in node and regional "
        "reports, are not shown; their results are not in any median, range or total either.",
        "Não são mostradas as organizações que não responderam numa rodada nem as que pediram para não aparecer "
        "com o seu nome nos relatórios de nó e regionais; os seus resultados também não entram em medianas, "
        "intervalos nem totais."),
    "score_rule": (
        "El puntaje de un área es el promedio de los niveles de sus afirmaciones (de 1 a 4), como en la herramienta "
        "de evaluación de capacidades de USAID/JSI; junto a él se muestran las afirmaciones. Entre organizaciones se "
        "resume con la mediana y el rango (mínimo–máximo), no con promedios.",
        "An area's score is the mean of the levels of its statements (1 to 4), as in the USAID/JSI organisational "
        "capacity assessment; the statements are shown beside it. Across organisations it is summarised by the "
        "median and the range (minimum–maximum), not by means.",
        "A pontuação de uma área é a média dos níveis das suas afirmações (de 1 a 4), como na ferramenta de "
        "avaliação de capacidades da USAID/JSI; as afirmações são mostradas ao lado. Entre organizações resume-se "
        "com a mediana e o intervalo (mínimo–máximo), não com médias."),
    "rank_rule": (
        "Orden de las áreas en el plan: primero las que tienen afirmaciones aún no plenamente en marcha; entre "
        "ellas, por la prioridad que les dio la organización (alta, media, baja), luego por necesidad (4 menos el "
        "puntaje, mayor primero), luego por el número de afirmaciones que no existen, y luego en el orden del "
        "formulario.",
        "Order of the areas in the plan: first those with statements not yet fully in place; among them, by the "
        "priority the organisation gave them (high, medium, low), then by need (4 minus the score, largest first), "
        "then by the number of statements not in place, then in the order of the form.",
        "Ordem das áreas no plano: primeiro as que têm afirmações ainda não plenamente implantadas; entre elas, "
        "pela prioridade que a organização lhes deu (alta, média, baixa), depois pela necessidade (4 menos a "
        "pontuação, maior primeiro), depois pelo número de afirmações que não existem, e depois na ordem do "
        "formulário."),
    "plan_file_note": (
        "El borrador del plan está en el archivo {file}: la organización lo completa y lo corrige, y en la próxima "
        "ronda se compara cada acción con los nuevos puntajes.",
        "The draft plan is in the file {file}: the organisation completes and corrects it, and in the next round "
        "each action is compared with the new scores.",
        "O rascunho do plano está no arquivo {file}: a organização o completa e corrige, e na próxima rodada cada "
        "ação é comparada com as novas pontuações."),
    "plan_more_rows": ("Se muestran las primeras {shown} de {total} acciones; el archivo las tiene todas.",
                       "The first {shown} of {total} actions are shown; the file has them all.",
                       "São mostradas as primeiras {shown} de {total} ações; o arquivo tem todas."),
    "no_previous_plan": ("No hay un plan anterior que seguir.", "There is no earlier plan to follow up.",
                         "Não há um plano anterior para acompanhar."),
    "no_change_yet": ("Solo hay una ronda: el cambio se verá después del seguimiento.",
                      "There is only one round: change will show after the follow-up.",
                      "Há só uma rodada: a mudança aparecerá depois do acompanhamento."),
    "not_national": ("Los datos de cobertura son de los programas de las organizaciones nacionales.",
                     "Coverage data belong to the national organisations' programmes.",
                     "Os dados de cobertura são dos programas das organizações nacionais."),
    "no_coverage": ("No hay datos de cobertura para mostrar.", "There are no coverage data to show.",
                    "Não há dados de cobertura para mostrar."),
    "coverage_rule": (
        "Cobertura: trabajadoras sexuales alcanzadas por pares en el mes dividido por la estimación del tamaño de "
        "la población; condones por trabajadora sexual por mes: condones distribuidos dividido por la misma "
        "estimación. Los conteos menores de {k} no se muestran (—), ni los indicadores que se calculan con ellos. "
        "Las estimaciones de tamaño son confidenciales y nunca se publican; por eso la cobertura de cada sitio se "
        "muestra por tramos.",
        "Coverage: sex workers reached by peer outreach in the month divided by the population size estimate; "
        "condoms per sex worker per month: condoms distributed divided by the same estimate. Counts under {k} are "
        "not shown (—), nor the indicators computed from them. Size estimates are confidential and never published; "
        "that is why each site's coverage is shown in bands.",
        "Cobertura: trabalhadoras sexuais alcançadas por pares no mês dividido pela estimativa do tamanho da "
        "população; preservativos por trabalhadora sexual por mês: preservativos distribuídos divididos pela mesma "
        "estimativa. Contagens menores que {k} não são mostradas (—), nem os indicadores calculados com elas. As "
        "estimativas de tamanho são confidenciais e nunca são publicadas; por isso a cobertura de cada local é "
        "mostrada por faixas."),
    "coverage_month": ("Mes: {month}.", "Month: {month}.", "Mês: {month}."),
    "coverage_trend_title": ("Cobertura mensual", "Monthly coverage", "Cobertura mensal"),
    "coverage_axis": ("Alcanzadas / población estimada", "Reached / estimated population", "Alcançadas / população estimada"),
    "cov_reached": ("Alcanzadas", "Reached", "Alcançadas"),
    "cov_condoms": ("Condones", "Condoms", "Preservativos"),
    "cov_lubricant": ("Lubricante", "Lubricant", "Lubrificante"),
    "cov_referred": ("Derivadas a la prueba", "Referred to testing", "Encaminhadas ao teste"),
    "cov_tested": ("Con prueba", "Tested", "Testadas"),
    "cov_linked": ("Vinculadas a la atención", "Linked to care", "Vinculadas ao atendimento"),
    "cov_coverage": ("Cobertura", "Coverage", "Cobertura"),
    "cov_condoms_per_sw": ("Condones por trabajadora sexual por mes", "Condoms per sex worker per month",
                           "Preservativos por trabalhadora sexual por mês"),
    "cov_total": ("Total", "Total", "Total"),
    "suppressed_title": ("No se muestra: muy pocas personas", "Not shown: too few people",
                         "Não mostrado: muito poucas pessoas"),
    "radar_alt": ("Gráfico radial del puntaje de cada área", "Radar chart of each area's score",
                  "Gráfico radial da pontuação de cada área"),
    "heatmap_alt": ("Mapa de calor de los puntajes de las organizaciones por área",
                    "Heatmap of the organisations' scores by area", "Mapa de calor das pontuações das organizações por área"),
    "change_alt": ("Mapa de calor del cambio de puntaje entre rondas", "Heatmap of the change in score between rounds",
                   "Mapa de calor da mudança de pontuação entre rodadas"),
    "trend_alt": ("Gráfico de líneas de la cobertura mensual", "Line chart of monthly coverage",
                  "Gráfico de linhas da cobertura mensal"),
    "data_file": ("Archivo de datos", "Data file", "Arquivo de dados"),
    "form": ("Formulario", "Form", "Formulário"),
    "software": ("Programa", "Software", "Programa"),
    "own_report": ("Informe propio de la organización: muestra sus resultados con su nombre.",
                   "The organisation's own report: it shows its results under its name.",
                   "Relatório próprio da organização: mostra os seus resultados com o seu nome."),
}


def text(key: str, language: str = "es", **values) -> str:
    """The message ``key`` in ``language``, with ``{placeholders}`` filled from ``values``."""
    index = ("es", "en", "pt").index(check_language(language))
    message = MESSAGES[key][index]
    return message.format(**values) if values else message
