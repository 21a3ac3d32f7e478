"""Ensembles: averaging, bagging, snapshot ensembles."""
