"""NetSuite (ERP + PSA): customers, projects, time, billing over SuiteTalk REST."""
