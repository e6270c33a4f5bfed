"""Generate examples/reports/turkmenistan-annual-brief-2025.pdf, the sample PDF report.

Run from the repository root with the dev extra installed (fpdf2)::

    .venv/bin/python examples/make_pdf.py

The text is written for civicwatch's sample corpus: every person, organisation
and outlet named in it is fictional. It uses only the PDF core font Helvetica,
so it must stay Latin-1 (straight quotes, no em dashes). The creation date is
fixed so that re-running the script gives the same file.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF

OUT = Path(__file__).parent / "reports" / "turkmenistan-annual-brief-2025.pdf"

TITLE = "Civic space in Turkmenistan: annual brief 2025"
SUBTITLE = "Central Asia Civic Monitor - published 16 February 2026"

# (heading, paragraphs); a heading of "" continues the previous section.
SECTIONS: list[tuple[str, list[str]]] = [
    (
        "Summary",
        [
            "Turkmenistan remained one of the most closed countries in the world in 2025. No independent "
            "civil society organisation, media outlet or political party was able to operate openly, and "
            "information about violations reached us mostly through relatives, exiled activists and a small "
            "number of correspondents who work anonymously. This brief summarises what our monitors were "
            "able to document between January and December 2025. Because of the climate of fear, the cases "
            "below are certainly only a fraction of what happened.",
            "The main patterns of the year were the punishment of people who criticised living conditions "
            "online, pressure on the relatives of activists living abroad, travel bans, the continued "
            "blocking of most foreign websites and circumvention tools, and the forced mobilisation of "
            "public-sector workers for the cotton harvest.",
        ],
    ),
    (
        "Freedom of expression and access to information",
        [
            "On 19 March 2025 officers of the Ministry of National Security detained Dovlet Gurbanmyradov, "
            "a 29-year-old resident of Balkanabat, two days after he posted a video about the lack of "
            "running water in his neighbourhood on a foreign video platform. "
            "On 14 April 2025 the Balkanabat city "
            "court sentenced him to four years in prison for hooliganism. His relatives were warned not to "
            "speak to foreign media about the case.",
            "Access to the internet remained tightly controlled. Most foreign news sites, messengers and "
            "social networks stayed blocked throughout the year, and in the autumn the authorities blocked "
            "a large number of additional VPN services. Police officers continued to stop people in the "
            "streets of Ashgabat and other cities to check their phones for VPN applications. Those found "
            "using them were fined and made to sign pledges not to visit foreign websites.",
            "The only independent reporting on the country continued to come from outlets based abroad. "
            "Their few remaining correspondents inside the country work under pseudonyms. In August 2025 a "
            "correspondent who had contributed to the exile outlet Garagum Habar under a pseudonym was "
            "summoned three times to the regional department of the Ministry of National Security in "
            "Dashoguz and questioned about his sources; he stopped working for the outlet.",
        ],
    ),
    (
        "Freedom of association",
        [
            "No new independent organisation was registered in 2025. Registered public associations remain "
            "closely tied to the state, and all foreign grants must be approved in advance by a government "
            "commission. In August 2025 the members of Yashyl Ojak, an informal group of volunteers who "
            "cleaned up rubbish along the Murgab river near Mary, were summoned by the city administration "
            "and told to stop their activities because the group was not registered. The group has not met "
            "since.",
        ],
    ),
    (
        "Freedom of peaceful assembly",
        [
            "Public protests remain extremely rare. On 6 May 2025 about 40 women gathered outside the "
            "administration of a district of Turkmenabat to complain about shortages of subsidised flour. "
            "Police officers dispersed them within half an hour and took the names of several of the women, "
            "who were later visited at home by officials and warned not to gather again.",
        ],
    ),
    (
        "Freedom of movement and pressure on relatives",
        [
            "On 21 June 2025 border officials at Ashgabat International Airport stopped Ogulgerek Annayeva, "
            "the 61-year-old mother of the exiled activist Batyr Annayev, from boarding a flight to "
            "Istanbul. She was told that she was on a list of people banned from travelling abroad, "
            "but she received "
            "no written decision. We know of at least six other relatives of activists abroad who were "
            "prevented from leaving the country in 2025.",
            "Turkmen citizens abroad who have criticised the authorities continued to report that consulates "
            "refused to renew their passports, leaving them without valid documents.",
        ],
    ),
    (
        "Forced labour in the cotton harvest",
        [
            "As in previous years, the 2025 cotton harvest relied on the forced mobilisation of "
            "public-sector workers. In October 2025 our monitors in Lebap and Dashoguz provinces "
            "documented teachers, "
            "doctors and nurses being ordered into the fields or told to pay for a substitute picker out of "
            "their own salaries. Those who refused were threatened with dismissal. We did not observe "
            "schoolchildren picking cotton in 2025, but lessons were cancelled in several schools because "
            "so many teachers had been sent to the fields.",
        ],
    ),
    (
        "Recommendations",
        [
            "We call on the Government of Turkmenistan to release Dovlet Gurbanmyradov and everyone else "
            "imprisoned for peacefully expressing their views; to lift all arbitrary travel bans and stop "
            "reprisals against the relatives of activists abroad; to end the blocking of websites and "
            "circumvention tools; to allow independent organisations to register and receive funding without "
            "prior approval; and to end forced labour in the cotton sector, including through an independent "
            "monitoring mechanism.",
            "We urge Turkmenistan's international partners and the companies that buy Turkmen cotton to make "
            "these steps a condition of their engagement.",
        ],
    ),
    (
        "About this brief",
        [
            "The Central Asia Civic Monitor documents restrictions on civic freedoms in the five Central "
            "Asian states. This brief is based on interviews with 34 people conducted remotely between "
            "January and December 2025, and on documents shared with us. Names of sources are withheld for "
            "their safety.",
        ],
    ),
]


def build() -> FPDF:
    """Lay out the brief: a title block, then each section as a heading and justified paragraphs."""
    pdf = FPDF(format="A4")
    pdf.set_creation_date(datetime(2026, 2, 16, 9, 0, tzinfo=UTC))
    pdf.set_title(TITLE)
    pdf.set_author("Central Asia Civic Monitor")
    pdf.set_subject("Annual brief on civic space in Turkmenistan (fictional sample report)")
    pdf.set_margins(22, 20, 22)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 17)
    pdf.multi_cell(0, 9, TITLE, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "I", 10)
    pdf.cell(0, 7, SUBTITLE, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for heading, paragraphs in SECTIONS:
        pdf.set_font("Helvetica", "B", 12.5)
        pdf.multi_cell(0, 7, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
        pdf.set_font("Helvetica", "", 11)
        for paragraph in paragraphs:
            pdf.multi_cell(0, 5.6, paragraph, align="J", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2.5)
        pdf.ln(2)
    return pdf


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    build().output(str(OUT))


if __name__ == "__main__":
    main()
