"""A real Tryton 8.2 (ERP: parties, opportunities, projects, timesheets, invoices) for tests
and the demo: built from nothing on SQLite, cached as a template, served on a free port."""
