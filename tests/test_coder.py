"""The coder, one example per codebook rule, in English, Russian, French and Spanish.

Every sentence here is made up about fictional people and organisations.
"""

from __future__ import annotations

import pytest

from civicwatch.code.coder import CODER_VERSION, Coder, Incident, code_document


@pytest.fixture(scope="module")
def coder() -> Coder:
    return Coder()


def one(coder: Coder, text: str, published: str | None = None, *, of_type: str | None = None) -> Incident:
    incidents = coder.code(text, published)
    if of_type:
        incidents = [i for i in incidents if of_type in i.types]
    assert incidents, f"no incident in {text!r}"
    return incidents[0]


def pairs(coder: Coder, text: str, published: str | None = None) -> set[tuple[str, str]]:
    return {(i.country, t) for i in coder.code(text, published) for t in i.types}


# -- the codebook's own examples -------------------------------------------------------------------


def test_codebook_example_1_detention_release_and_protest(coder: Coder) -> None:
    text = (
        "On 4 March 2024 police in Almaty detained journalist Aigerim Sadykova after she filmed a rally; "
        "she was released two days later."
    )
    incidents = coder.code(text)
    detention = next(i for i in incidents if "detention" in i.types)
    assert detention.country == "KZ"
    assert detention.persons == ["Aigerim Sadykova"]
    assert "journalist" in detention.targets
    assert "police" in detention.perpetrators
    assert detention.date == "2024-03-04"
    assert "expression" in detention.rights
    assert ("KZ", "release") in pairs(coder, text)
    assert ("KZ", "protest") in pairs(coder, text)


def test_codebook_example_2_registration_refused(coder: Coder) -> None:
    text = "The Ministry of Justice refused for the ninth time to register the Rights Watch Centre in Bishkek."
    inc = one(coder, text)
    assert (inc.country, inc.types, inc.targets) == ("KG", ["cso_restriction"], ["cso"])
    assert inc.rights == ["association"]
    assert "executive" in inc.perpetrators
    assert inc.date is None


def test_codebook_example_3_a_call_is_not_an_incident(coder: Coder) -> None:
    assert coder.code("We call on the authorities of Tajikistan to stop harassing independent media.") == []


def test_codebook_example_4_an_address_is_not_an_incident(coder: Coder) -> None:
    assert coder.code("Our head office is at 25 Long Street, Cape Town.") == []


# -- every type ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("detention", "Police in Tashkent arrested blogger Timur Vexley on 2 May 2023."),
        ("detention", "В Бишкеке 3 мая 2023 года задержали активиста Арата Мелисова."),
        ("detention", "La police a interpellé le journaliste Karim Ouldane à Alger le 5 mai 2023."),
        ("detention", "La policía detuvo al periodista Andrés Valcárcel en Managua el 6 de mayo de 2023."),
        ("prosecution", "Prosecutors in Baku charged activist Rena Qasimli with hooliganism."),
        ("prosecution", "В Алматы возбудили уголовное дело против журналистки Динары Омаровой."),
        ("prosecution", "Le militant Yanis Berkane a été inculpé à Tunis pour « outrage »."),
        ("prosecution", "El defensor Tomás Irigoyen fue acusado de difamación en Tegucigalpa."),
        ("imprisonment", "A court in Minsk sentenced blogger Pavel Drozdik to four years in prison."),
        ("imprisonment", "Суд в Душанбе приговорил журналиста Фаррух Назарова к семи годам лишения свободы."),
        ("imprisonment", "À Alger, le journaliste Samir Taleb a été condamné à deux ans de prison ferme."),
        ("imprisonment", "En La Habana, el activista Rubén Ferrer fue condenado a cinco años de prisión."),
        ("harassment", "Police searched the home of human rights defender Gulnara Tekeyeva in Osh."),
        ("harassment", "В Ташкенте у правозащитницы Малики Юсуповой прошел обыск."),
        ("harassment", "Au Maroc, la journaliste Nadia Berrada a reçu des menaces de mort."),
        ("harassment", "En Guatemala, la defensora Lucía Cojtí recibió amenazas de muerte."),
        ("attack", "Unidentified men beat journalist Oleg Varnin in Moscow on 3 June 2022."),
        ("attack", "В Москве неизвестные избили журналиста Олега Варнина."),
        ("attack", "Au Burkina Faso, le militant Issa Kaboret a été tué par des hommes armés."),
        ("attack", "En Colombia, la líder social Marta Quiñónez fue asesinada por hombres armados."),
        ("travel_ban", "Border guards barred journalist Emil Rustamli from leaving Azerbaijan."),
        ("travel_ban", "Журналиста Тимура Исаева депортировали из Кыргызстана."),
        ("travel_ban", "Le militant algérien Farid Amrane a été expulsé vers la France."),
        ("travel_ban", "A la periodista cubana Elena Rubio le impidieron viajar a México."),
        ("protest_restriction", "Riot police in Tbilisi dispersed the rally with tear gas."),
        ("protest_restriction", "В Минске полиция разогнала митинг."),
        ("protest_restriction", "À Dakar, la police a dispersé la manifestation à coups de gaz lacrymogènes."),
        ("protest_restriction", "En Managua la policía dispersó la marcha con gases lacrimógenos."),
        ("restrictive_law", "Kyrgyzstan's parliament adopted a foreign agents law on 14 March 2024."),
        ("restrictive_law", "Парламент Казахстана принял закон о запрете пикетов."),
        ("restrictive_law", "Le parlement tunisien a adopté une loi qui restreint les associations."),
        ("restrictive_law", "La Asamblea Nacional de Nicaragua aprobó una ley de agentes extranjeros."),
        ("censorship", "Authorities in Turkmenistan blocked access to the news website Kelpe."),
        ("censorship", "Роскомнадзор заблокировал сайт издания «Северный вестник» в России."),
        ("censorship", "Au Sénégal, l'internet mobile a été coupé par le gouvernement."),
        ("censorship", "En Cuba, las autoridades censuraron la revista digital Brisa."),
        ("cso_restriction", "A court in Tashkent liquidated the NGO Open Steppe."),
        ("cso_restriction", "Суд в Астане ликвидировал общественное объединение «Ясная степь»."),
        ("cso_restriction", "En Nicaragua, la Asamblea canceló la personalidad jurídica de 50 asociaciones."),
        ("forced_labour", "Local officials in Uzbekistan forced teachers to pick cotton in September 2021."),
        ("forced_labour", "В Туркменистане бюджетников принудительно отправили на хлопок."),
        ("release", "Azerbaijani authorities released journalist Leyla Mammadli on 9 May 2023."),
        ("release", "В Минске вышел на свободу активист Игорь Ласкевич."),
        ("release", "Au Maroc, le journaliste Hamid Zerrouk a été libéré le 2 avril 2023."),
        ("release", "En Nicaragua, el periodista Mateo Lacayo fue liberado el 3 de abril de 2023."),
        ("legal_remedy", "A court in Nairobi acquitted eight protesters on 26 November 2021."),
        ("legal_remedy", "Суд в Алматы оправдал активиста Нурлана Сапарова."),
        ("legal_remedy", "À Tunis, le blogueur Anis Mzali a été acquitté."),
        ("legal_remedy", "En Honduras, el periodista Ramón Alvarado fue absuelto."),
        ("positive_reform", "Kazakhstan's parliament repealed the criminal defamation article in 2020."),
        ("positive_reform", "Le Parlement marocain a abrogé l'article sur la diffamation."),
        ("protest", "Thousands of people held a rally in Bishkek on 5 October 2020."),
        ("protest", "В Алматы прошел митинг против повышения цен на газ."),
        ("protest", "Des milliers de manifestants ont défilé à Conakry le 16 février 2023."),
        ("protest", "Miles de manifestantes marcharon en Tegucigalpa el 1 de mayo de 2023."),
    ],
)
def test_every_type_in_every_language(coder: Coder, kind: str, text: str) -> None:
    assert any(kind in i.types for i in coder.code(text)), coder.code(text)


# -- targets ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "text"),
    [
        ("hrd", "Human rights defender Saida Omonova was detained in Nukus."),
        ("journalist", "Журналист Данияр Абенов задержан в Алматы."),
        ("blogger", "Le blogueur Karim Salhi a été arrêté à Tunis."),
        ("protester", "La policía detuvo a veinte manifestantes en Managua."),
        ("cso", "The Justice Ministry of Tajikistan liquidated the NGO Bright Valley."),
        ("lawyer", "Lawyer Arman Zhakenov was arrested in Astana."),
        ("trade_unionist", "Trade union leader Erlan Baimukhanov was jailed in Kazakhstan."),
        ("opposition", "Opposition politician Kamil Ibragimov was detained in Baku."),
        ("lgbti", "Police in Moscow detained LGBT activists at a picket."),
        ("religious", "Police in Tashkent detained believers at a private prayer meeting."),
        ("worker", "In Turkmenistan, teachers were forced to pick cotton."),
        ("public", "Authorities in Kazakhstan imposed an internet shutdown nationwide on 5 January 2022."),
    ],
)
def test_every_target(coder: Coder, target: str, text: str) -> None:
    assert any(target in i.targets for i in coder.code(text)), coder.code(text)


# -- rights, derived -------------------------------------------------------------------------------


def test_rights_assembly_from_a_protest(coder: Coder) -> None:
    assert one(coder, "Police in Minsk dispersed the rally.").rights == ["assembly"]


def test_rights_association_from_a_cso_restriction(coder: Coder) -> None:
    assert "association" in one(coder, "A court in Bishkek liquidated the NGO Clear Water.").rights


def test_rights_expression_from_censorship(coder: Coder) -> None:
    assert "expression" in one(coder, "Authorities in Tajikistan blocked the news website Asia Today.").rights


def test_rights_of_a_defender_default_to_association_and_expression(coder: Coder) -> None:
    inc = one(coder, "Human rights defender Zarina Kholova was arrested in Dushanbe.")
    assert inc.rights == ["association", "expression"]


def test_rights_association_for_forced_labour(coder: Coder) -> None:
    assert "association" in one(coder, "In Uzbekistan, nurses were forced to pick cotton.").rights


# -- modality: no incident -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "We urge the authorities of Kazakhstan to release activist Bolat Nurov.",
        "Nous appelons les autorités algériennes à libérer le journaliste Amine Kaci.",
        "Pedimos a las autoridades de Nicaragua que liberen al periodista Iván Rocha.",
        "Мы призываем власти Таджикистана освободить журналиста Рустама Назарова.",
        "If convicted, blogger Arslan Temirov could face up to five years in prison in Turkmenistan.",
        "Le journaliste Omar Haddad risque cinq ans de prison en Algérie.",
        "В Узбекистане блогеру Ахмаду Исмоилову грозит до пяти лет лишения свободы.",
        "El periodista Raúl Campos podría ser condenado a diez años de prisión en Honduras.",
        "The Ministry of Interior of Tajikistan denied that activist Nodir Saidov was detained.",
        "Journalist Aibek Sultanov was not arrested in Bishkek.",
        "In 2021, 52 activists were killed in Colombia, according to the annual index.",
    ],
)
def test_calls_hypotheticals_denials_negation_and_statistics_are_not_incidents(coder: Coder, text: str) -> None:
    assert coder.code(text) == [], coder.code(text)


def test_an_act_reported_inside_a_call_is_still_coded(coder: Coder) -> None:
    text = "We urge the authorities of Kazakhstan to release activist Bolat Nurov, who was detained on 3 May 2023."
    inc = one(coder, text)
    assert (inc.country, inc.types, inc.date) == ("KZ", ["detention"], "2023-05-03")


def test_a_threat_of_blocking_is_not_censorship(coder: Coder) -> None:
    assert coder.code("The government warned that social networks might be blocked in Kazakhstan.") == []


# -- dates -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "published", "date"),
    [
        ("Police in Osh detained activist Ulan Tashiev on 13 May 2009.", None, "2009-05-13"),
        ("Police in Osh detained activist Ulan Tashiev in September 2009.", None, "2009-09"),
        ("Police in Osh detained activist Ulan Tashiev in 2021.", None, "2021"),
        ("Police in Osh detained activist Ulan Tashiev yesterday.", "2024-03-05", "2024-03-04"),
        ("Police in Osh detained activist Ulan Tashiev on Tuesday.", "2024-03-08", "2024-03-05"),
        ("Police in Osh detained activist Ulan Tashiev last month.", "2024-03-08", "2024-02"),
        ("Police in Osh detained activist Ulan Tashiev on 3 May.", "2024-03-08", "2023-05-03"),
        ("Police in Osh detained activist Ulan Tashiev on 3 May.", None, None),
        ("Police in Osh detained activists on 3–13 April 2023.", None, "2023-04"),
        ("Police in Osh detained activists on the night of 3 to 4 May 2023.", None, "2023-05-03"),
        ("Police in Osh detained activist Ulan Tashiev in the autumn of 2017.", None, "2017"),
        ("В Оше 13 мая 2009 года задержали активиста Улана Ташиева.", None, "2009-05-13"),
        ("À Alger, le militant Karim Amrani a été arrêté le 13 mai 2009.", None, "2009-05-13"),
        ("En Managua, el activista Luis Pérez fue detenido el 13 de mayo de 2009.", None, "2009-05-13"),
    ],
)
def test_dates_keep_the_precision_of_the_text(coder: Coder, text: str, published: str | None, date: str) -> None:
    assert one(coder, text, published).date == date


def test_a_date_is_never_the_publication_date_by_default(coder: Coder) -> None:
    assert one(coder, "Police in Osh detained activist Ulan Tashiev.", "2024-03-05").date is None


# -- countries -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "country"),
    [
        ("Police in Nukus detained activist Dilnoza Karimova.", "UZ"),
        ("Police in Karakalpakstan detained activist Dilnoza Karimova.", "UZ"),
        ("В Алматы задержали активиста Ерлана Садыкова.", "KZ"),
        ("Police in Osh detained journalist Bakyt Asanov.", "KG"),
        ("Uzbek police detained blogger Otabek Nurmatov.", "UZ"),
        ("Hong Kong police arrested activist Wing Lam Cheung.", "HK"),
        ("La policía rusa detuvo a cien manifestantes.", "RU"),
    ],
)
def test_places_give_the_country(coder: Coder, text: str, country: str) -> None:
    assert one(coder, text).country == country


def test_the_publisher_dateline_does_not_give_the_country(coder: Coder) -> None:
    text = (
        "Johannesburg, 16 March 2010. Uzbek HIV activist Rustam Ergashev has been sentenced to seven years "
        "in prison."
    )
    assert {i.country for i in coder.code(text)} == {"UZ"}
    assert {i.date for i in coder.code(text)} == {None}  # the dateline dates the report, not the sentence


# -- persons, perpetrators, grouping, evidence -----------------------------------------------------


def test_an_officials_name_is_not_a_person_affected(coder: Coder) -> None:
    inc = one(coder, "President Arman Doskaliev pardoned journalist Serik Ulanov in Kazakhstan.")
    assert inc.persons == ["Serik Ulanov"]
    assert "executive" in inc.perpetrators


def test_cyrillic_names_are_found(coder: Coder) -> None:
    inc = one(coder, "В Бишкеке задержали журналиста Азамата Токтогулова.")
    assert inc.persons == ["Азамата Токтогулова"]


def test_unknown_perpetrators(coder: Coder) -> None:
    inc = one(coder, "In Honduras, land defender Ana Lucía Mejía was shot dead by unidentified gunmen.")
    assert "unknown" in inc.perpetrators and inc.types == ["attack"]


def test_evidence_is_a_span_of_the_text(coder: Coder) -> None:
    text = "Last year many things happened. Police in Osh detained activist Ulan Tashiev on 3 May 2023."
    inc = one(coder, text)
    assert text[inc.evidence_start:inc.evidence_end] == inc.evidence
    assert "detained" in inc.evidence and len(inc.evidence) < len(text)
    assert 0 < inc.confidence <= 1


def test_one_incident_per_act_country_and_group(coder: Coder) -> None:
    text = "Police in Osh detained activist Ulan Tashiev on 3 May 2023. He was detained at the station."
    assert len([i for i in coder.code(text) if "detention" in i.types]) <= 2


def test_code_document_gives_the_codebook_json(coder: Coder) -> None:
    out = code_document({"id": "doc-1", "text": "Police in Almaty detained journalist Aigerim Sadykova."}, coder)
    assert out["id"] == "doc-1"
    assert list(out["incidents"][0]) == [
        "country", "types", "rights", "targets", "persons", "organisations", "perpetrators", "date", "evidence",
        "confidence",
    ]


def test_the_coder_version_changes_with_the_data(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "types.toml").write_text('[detention]\n"en+" = ["kidnapped by the state"]\n', encoding="utf-8")
    custom = Coder(tmp_path)
    assert custom.version != CODER_VERSION
    assert Coder().version == CODER_VERSION
    assert custom.code("In Belarus, activist Ivan Lapko was kidnapped by the state.")[0].types == ["detention"]


def test_an_outlets_name_is_an_organisation_not_a_person(coder: Coder) -> None:
    inc = one(coder, "Kazakh police raided the offices of the independent outlet Steppe Voice.")
    assert inc.persons == []
    assert inc.types == ["harassment"] and inc.targets == ["journalist"]


def test_a_court_fine_in_russian_is_prosecution(coder: Coder) -> None:
    inc = one(coder, "В Казахстане суд оштрафовал активистку Айгуль Утепову за пост в Facebook.")
    assert inc.types == ["prosecution"] and "blogger" in inc.targets


def test_release_on_bail(coder: Coder) -> None:
    inc = one(coder, "A court in Nairobi granted bail to opposition leader Kwame Otieno.", of_type="release")
    assert inc.country == "KE" and inc.persons == ["Kwame Otieno"]
