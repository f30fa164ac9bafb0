"""Scores that say why (SAL-1): a transparent part from fit and engagement, and once enough leads
are closed, a learned part — a logistic regression on the company's own converted and
disqualified leads. Every lead keeps its top reasons."""

import math

from django.utils.translation import gettext_lazy as _

from kehu.customers.models import Industry
from kehu.leads.models import Lead, LeadSource, ScoringModel, SizeBand

TOP_REASONS = 3
# Industries a manufacturer or distributor usually sells to best.
CORE_INDUSTRIES = {Industry.MACHINERY, Industry.ELECTRONICS, Industry.AUTOMOTIVE, Industry.BUILDING, Industry.ENERGY}
SIZE_POINTS = {SizeBand.LARGE: 25, SizeBand.MEDIUM: 18, SizeBand.SMALL: 10, SizeBand.MICRO: 4}
SOURCE_POINTS = {LeadSource.REFERRAL: 10, LeadSource.WEB_INQUIRY: 8, LeadSource.TRADE_SHOW: 6}

REASON_TEXT = {
    "core_industry": _("Industry we sell to most"),
    "industry_known": _("Industry known"),
    "size": _("Company size"),
    "region_covered": _("Region covered by a sales rep"),
    "phone": _("Phone given"),
    "email": _("Email given"),
    "contact": _("Contact person named"),
    "message": _("Wrote a detailed message"),
    "source": _("Source that converts well"),
    "responded": _("We have responded"),
    "engagement": _("Conversations on record"),
    "learned": _("Similar leads converted before"),
}


def features(lead: Lead) -> dict[str, float]:
    """Plain 0/1 facts about a lead, the inputs of both parts of the score."""
    out = {
        "phone": float(bool(lead.phone)),
        "email": float(bool(lead.email)),
        "contact": float(bool(lead.contact_name)),
        "message": float(len(lead.message or "") >= 30),
        "core_industry": float(lead.industry in CORE_INDUSTRIES),
    }
    for value in SizeBand.values:
        if value:
            out[f"size={value}"] = float(lead.size_band == value)
    for value in LeadSource.values:
        out[f"source={value}"] = float(lead.source == value)
    return out


def feature_label(name: str) -> str:
    if name.startswith("size="):
        return f"{_('Company size')}: {SizeBand(name[5:]).label}"
    if name.startswith("source="):
        return f"{_('Source')}: {LeadSource(name[7:]).label}"
    return str(REASON_TEXT.get(name, name))


def rule_score(lead: Lead, *, covered_regions: set[str], engagement: int) -> tuple[int, list[dict]]:
    parts: list[tuple[str, int]] = []
    if lead.industry in CORE_INDUSTRIES:
        parts.append(("core_industry", 15))
    elif lead.industry:
        parts.append(("industry_known", 5))
    if lead.size_band in SIZE_POINTS:
        parts.append(("size", SIZE_POINTS[lead.size_band]))
    if lead.region and lead.region in covered_regions:
        parts.append(("region_covered", 10))
    if lead.phone:
        parts.append(("phone", 6))
    if lead.email:
        parts.append(("email", 4))
    if lead.contact_name:
        parts.append(("contact", 5))
    if len(lead.message or "") >= 30:
        parts.append(("message", 5))
    if lead.source in SOURCE_POINTS:
        parts.append(("source", SOURCE_POINTS[lead.source]))
    if lead.first_responded_at:
        parts.append(("responded", 5))
    if engagement:
        parts.append(("engagement", min(engagement, 3) * 5))
    total = min(100, sum(p for _, p in parts))
    return total, [{"code": code, "points": points} for code, points in parts]


def learned_probability(model: ScoringModel, lead: Lead) -> tuple[float, list[dict]]:
    values = features(lead)
    contributions = [
        (name, coef * values.get(name, 0.0)) for name, coef in zip(model.features, model.coefficients, strict=True)
    ]
    z = model.intercept + sum(c for _, c in contributions)
    probability = 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))
    top = sorted((c for c in contributions if c[1] > 0), key=lambda c: (-c[1], c[0]))[:TOP_REASONS]
    return probability, [{"code": f"learned:{name}", "weight": round(w, 3)} for name, w in top]


def score_lead(lead: Lead, *, covered_regions: set[str], engagement: int, model: ScoringModel | None):
    """(score 0–100, top reasons). With a learned model, the score is the mean of both parts."""
    points, parts = rule_score(lead, covered_regions=covered_regions, engagement=engagement)
    reasons = sorted(parts, key=lambda p: (-p["points"], p["code"]))[:TOP_REASONS]
    if model is None:
        return points, reasons
    probability, learned = learned_probability(model, lead)
    return round((points + probability * 100) / 2), learned + reasons[: max(0, TOP_REASONS - len(learned))]


def reason_text(reason: dict) -> str:
    code = reason.get("code", "")
    if code.startswith("learned:"):
        return f"{REASON_TEXT['learned']}: {feature_label(code[8:])}"
    text = str(REASON_TEXT.get(code, code))
    return f"{text} (+{reason['points']})" if "points" in reason else text


def train(leads: list[Lead], labels: list[int]) -> tuple[list[str], list[float], float]:
    """Fit a logistic regression; deterministic for a fixed training set."""
    from sklearn.linear_model import LogisticRegression

    names = sorted(features(leads[0]).keys())
    x = [[features(lead)[n] for n in names] for lead in leads]
    model = LogisticRegression(C=1.0, max_iter=1000, solver="lbfgs")
    model.fit(x, labels)
    return names, [round(float(c), 6) for c in model.coef_[0]], round(float(model.intercept_[0]), 6)
