"""Tryton (ERP/PSA): parties, employees, opportunities, projects, invoices and timesheets
over JSON-RPC."""
