"""Expert outreach: outreach visits, long-term postings, expert clinic sessions with bookable slots, annual reports."""
