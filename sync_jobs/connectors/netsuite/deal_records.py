"""What NetSuite already holds for a won deal: its project, its contract, its billing.

A firm often sets a deal up by hand, or its CRM connector does, before clientgraph's handoff
gets to it. The handoff asks NetSuite first and links what it finds, so it never writes a
second project next to the firm's own:

* the deal's project: a job whose ``custentity_cg_opportunity`` is the deal's Salesforce id,
  else a job of an engagement whose ``custrecord_cg_opportunity`` is (the contract names the
  deal it was sold by);
* the project's billing and staffing: milestone tasks, a billing rule, resource
  allocations already on a job the handoff did not make.

Each question is one SuiteQL query with an equality filter (``WHERE column = 'text'``).
"""

from __future__ import annotations

from sync_jobs.commands.writes import InvalidPayload
from sync_jobs.connectors.netsuite.client import NetSuiteClient

ENGAGEMENT = "customrecord_cg_engagement"


async def ids_where(client: NetSuiteClient, record_type: str, column: str, value: str) -> list[str]:
    """Internal ids of ``record_type`` whose ``column`` is ``value``, lowest first."""
    if "'" in value:
        raise InvalidPayload(record_type, f"{column} holds a quote: {value!r}")
    query = f"SELECT id FROM {record_type} WHERE {column} = '{value}' ORDER BY id"
    return [str(row["id"]) async for page in client.suiteql_all(query) for row in page]


async def deal_project(client: NetSuiteClient, deal: str | None) -> str | None:
    """The job NetSuite already keeps for the deal ``deal`` (a Salesforce id), if any."""
    if not deal:
        return None
    jobs = await ids_where(client, "job", "custentity_cg_opportunity", deal)
    if jobs:
        return jobs[0]
    for engagement in await ids_where(client, ENGAGEMENT, "custrecord_cg_opportunity", deal):
        jobs = await ids_where(client, "job", "custentity_cg_engagement", engagement)
        if jobs:
            return jobs[0]
    return None


async def is_theirs(client: NetSuiteClient, project_id: str, our_external_id: str | None) -> bool:
    """Whether the job was made by someone else (the firm), not by this handoff."""
    job = await client.get_record("job", project_id)
    return job is not None and job.get("externalId") != our_external_id


async def has_billing(client: NetSuiteClient, project_id: str) -> bool:
    """Whether the job has a billing rule or milestone tasks already."""
    job = await client.get_record("job", project_id) or {}
    if job.get("custentity_cg_billing_schedule"):
        return True
    return bool(await ids_where(client, "projecttask", "company", project_id))


async def has_staffing(client: NetSuiteClient, project_id: str) -> bool:
    """Whether the job has resource allocations already."""
    return bool(await ids_where(client, "resourceallocation", "project", project_id))
