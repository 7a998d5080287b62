"""Salesforce (CRM): Account, Contact, Opportunity over the REST API."""
