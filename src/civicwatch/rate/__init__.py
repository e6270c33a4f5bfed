"""Rating each country's civic space: the method (``method.py``) and the run over the database (``run.py``)."""
