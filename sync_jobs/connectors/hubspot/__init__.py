"""HubSpot (CRM): companies, contacts and deals over the CRM v3 API."""
