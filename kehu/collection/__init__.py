"""Customer information collection workflow (CUS-3): the information form, approval, archiving, routing."""
