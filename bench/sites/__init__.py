"""Several remote sites driven from one control centre: the `sites:` section of a lab file
(`lab.py`), one run over every site in turn or at once (`run.py`), one virtual clock for sites
running at once (`clock.py`), one session with topics per site (`session.py`) and the latest
link qualification of each site (`qualified.py`)."""
