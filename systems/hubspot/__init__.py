"""A HubSpot CRM API simulator: companies, contacts, deals, search, associations, webhooks."""
