"""Learner code runs only here: a separate, freshly started interpreter inside the strongest sandbox
the machine offers (see launch.py), talking to the judge over pipes."""
