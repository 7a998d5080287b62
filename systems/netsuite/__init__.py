"""A NetSuite SuiteTalk REST simulator (record API and SuiteQL) for tests and the demo."""
