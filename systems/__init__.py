"""Systems of record for local use: simulators that speak real wire formats (Salesforce,
NetSuite) and a launcher for a real Tryton. Tests and the demo sync from these."""
