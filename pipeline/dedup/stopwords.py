"""Word lists for story features: words that say nothing about which event a report is about.

STOPWORDS never count. NEWS_WORDS are frequent in any news report ("said", "minister",
"government"); they count, but little, because without a corpus-wide document frequency they
would otherwise dominate every vector. CALENDAR words are capitalised without being names.
"""

from __future__ import annotations


def _words(block: str) -> frozenset[str]:
    return frozenset(block.split())


STOPWORDS: frozenset[str] = _words(
    """
a about above after again against all almost along also although am among an and another any
are around as at be became because been before being below between both but by can cannot could
did do does doing done down during each either else even ever every few for from further get gets
got had has have having he her here hers herself him himself his how however i if in into is it
its itself just least less like made make makes many may me might more most much must my myself
near neither no nor not now of off often on once one only onto or other others otherwise our ours
ourselves out over own per perhaps quite rather same several shall she should since so some such
than that the their theirs them themselves then there therefore these they this those though
through thus to too toward towards under until up upon us very via was we were what whatever when
where whether which while who whom whose why will with within without would yet you your yours
yourself yourselves via amid amidst despite including according s t don didn doesn isn wasn
weren won wouldn couldn shouldn hasn haven hadn aren ain ll ve re d m o y
mr mrs ms dr
"""
)

NEWS_WORDS: frozenset[str] = _words(
    """
said say says saying told tell tells report reports reported reporting reporter reporters
news media statement statements official officials source sources spokesperson spokesman
spokeswoman according added adding noted claimed claims claim comment comments announced
announce announcement week weeks weekend month months year years day days time times today
yesterday tomorrow recent recently new latest first last second third two three four five
six seven eight nine ten hundred thousand million billion percent number numbers part parts
people person country countries government governments state states nation nations national
international world global region regional local public president minister ministry leader
leaders leadership chief head member members group groups team teams side sides issue issues
matter matters case cases way ways thing things place places area areas point points level
levels part show shows showed shown see seen saw look looked went go goes going come came
comes take took taken taking give gave given giving use used uses using call called calls
made held hold holds include includes included well still already later earlier early late
long big small large major key high low good great bad important significant world's
continue continued continues expected expect expects likely possible whole full fully
told asked ask asks agency agencies press website site online read trending advertisement
image images photo photos video videos copyright rights reserved subscribe newsletter
"""
)

CALENDAR: frozenset[str] = _words(
    """
monday tuesday wednesday thursday friday saturday sunday january february march april may june
july august september october november december jan feb mar apr jun jul aug sep sept oct nov dec
"""
)

# Demonyms and adjectives that name the same entity as the country ("Russian minister").
DEMONYMS: dict[str, str] = {
    "russian": "russia",
    "russians": "russia",
    "korean": "korea",
    "koreans": "korea",
    "chinese": "china",
    "american": "america",
    "americans": "america",
    "ukrainian": "ukraine",
    "ukrainians": "ukraine",
    "iranian": "iran",
    "iranians": "iran",
    "japanese": "japan",
    "british": "britain",
    "french": "france",
    "german": "germany",
    "germans": "germany",
    "israeli": "israel",
    "israelis": "israel",
    "european": "europe",
    "syrian": "syria",
    "indian": "india",
    "turkish": "turkey",
    "brazilian": "brazil",
    "canadian": "canada",
    "australian": "australia",
}

# Names so common in news that sharing them says little about sharing an event: a stand-in
# for document frequency, which a stateless per-document function cannot know. Countries,
# their capitals and regions, world bodies and the most reported heads of state, as folded
# single tokens (multi-word names by their words).
BROAD_NAMES: frozenset[str] = _words(
    """
afghanistan africa algeria america argentina armenia asia australia austria azerbaijan
bahrain bangladesh belarus belgium bolivia brazil britain bulgaria cambodia canada chile china
colombia congo croatia cuba cyprus czech denmark ecuador egypt england estonia ethiopia europe
finland france georgia germany ghana greece hungary india indonesia iran iraq ireland israel
italy japan jordan kazakhstan kenya korea kosovo kuwait latvia lebanon libya lithuania malaysia
mali mexico moldova mongolia morocco myanmar nepal netherlands nigeria norway pakistan palestine
peru philippines poland portugal qatar romania russia rwanda saudi arabia serbia singapore
slovakia somalia spain sudan sweden switzerland syria taiwan thailand tunisia turkey uganda
ukraine uzbekistan venezuela vietnam yemen zimbabwe
north south east west northern southern eastern western central united states kingdom
emirates republic democratic federation union soviet gulf pacific atlantic middle far
washington moscow beijing pyongyang seoul tokyo kyiv kiev london paris berlin brussels tehran
jerusalem ankara delhi islamabad kabul baghdad damascus cairo riyadh
nations council security assembly nato un eu uk us usa european commission parliament congress
senate white house kremlin pentagon army navy military forces ministry foreign defence defense
putin vladimir biden joe trump donald xi jinping zelensky volodymyr kim jong un
"""
)
