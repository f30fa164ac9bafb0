"""公海 and handover (CUS-7): pools with recycle rules, claim / assign / release, handover briefs."""
