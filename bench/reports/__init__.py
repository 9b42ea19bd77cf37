"""Report writers: report.json (see docs/report-format.md), junit.xml and a self-contained
report.html with plots. `write.py` writes all three atomically for a run or a sweep."""
