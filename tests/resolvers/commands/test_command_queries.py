"""command(id) and commands(first, after, filter): the log, newest first, keyset-paged."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.db import count_statements
from tests.conftest import error_codes, graphql, http_client
from tests.resolvers.commands.world import (
    command_id,
    gid,
    mutation,
    set_status,
    small_firm,
    writable_app,
    writable_gateway,
)

PAGE = """
query($first: Int, $after: String, $filter: CommandFilter) {
  commands(first: $first, after: $after, filter: $filter) {
    totalCount pageInfo { hasNextPage endCursor } nodes { id kind status targetSystem }
  }
}
"""
ONE = "query($id: ID!) { command(id: $id) { id kind status lastError { code } } }"


async def test_filtered_pages_walk_the_log_newest_first(engine: AsyncEngine) -> None:
    ids = await small_firm(engine)
    log_time = mutation("logTime", "LogTimeInput")
    won = mutation("markOpportunityWon", "MarkOpportunityWonInput")
    async with writable_gateway(engine) as client:
        made = []
        for day in range(1, 6):
            body = await graphql(
                client,
                log_time,
                {
                    "input": {
                        "projectId": gid("Project", ids["project"]),
                        "personId": gid("Person", ids["ann"]),
                        "workDate": f"2026-06-0{day}",
                        "hours": "1",
                        "idempotencyKey": f"t-{day}",
                    }
                },
            )
            made.append(body["data"]["logTime"]["id"])
        await graphql(
            client,
            won,
            {"input": {"opportunityId": gid("Opportunity", ids["deal"]), "idempotencyKey": "w"}},
        )
        await set_status(engine, command_id(made[0]), "SUCCEEDED")

        seen, after = [], None
        while True:
            page = (
                await graphql(
                    client,
                    PAGE,
                    {
                        "first": 2,
                        "after": after,
                        "filter": {"kind": ["log_time"], "status": ["ACCEPTED"]},
                    },
                )
            )["data"]["commands"]
            seen += [n["id"] for n in page["nodes"]]
            assert page["totalCount"] == 4
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        crm = await graphql(client, PAGE, {"filter": {"targetSystem": ["salesforce"]}})
        one = await graphql(client, ONE, {"id": made[0]})
        missing = await graphql(client, ONE, {"id": gid("Command", 10**6)})
        bad = await graphql(client, ONE, {"id": gid("Project", 1)})

    assert seen == list(reversed(made[1:]))
    assert [n["kind"] for n in crm["data"]["commands"]["nodes"]] == ["mark_opportunity_won"]
    assert one["data"]["command"]["status"] == "SUCCEEDED"
    assert error_codes(missing) == ["NOT_FOUND"]
    assert error_codes(bad) == ["BAD_USER_INPUT"]


TARGETS = (
    "{ commands(first: 50) { nodes { kind target { sourceId version } sourceRefs { system } } } }"
)


async def test_targets_cost_the_same_statements_for_2_or_6_commands(engine: AsyncEngine) -> None:
    ids = await small_firm(engine)
    complete = mutation("completeMilestone", "CompleteMilestoneInput")
    update = mutation("updateOpportunity", "UpdateOpportunityInput")
    counts = []
    quiet = {"relay_interval_seconds": 3600}  # no background sweep inside a measurement
    async with writable_app(engine, **quiet) as app, http_client(app) as client:
        for batch in range(3):
            for n in (1, 2):
                await graphql(
                    client,
                    complete,
                    {
                        "input": {
                            "milestoneId": gid("Milestone", ids["milestone"]),
                            "idempotencyKey": f"m-{batch}-{n}",
                            "completedOn": f"2026-06-0{n}",
                        }
                    },
                )
            await graphql(
                client,
                update,
                {
                    "input": {
                        "opportunityId": gid("Opportunity", ids["deal"]),
                        "probability": 10 + batch,
                        "idempotencyKey": f"u-{batch}",
                    }
                },
            )
            if batch == 1:
                continue
            statements = count_statements(app.state.engine)
            body = await graphql(client, TARGETS)
            counts.append((len(statements), len(body["data"]["commands"]["nodes"])))
            statements.clear()
            nodes = body["data"]["commands"]["nodes"]
            assert all(n["target"]["sourceId"] in {"task-3", "006DEAL"} for n in nodes)

    (small, small_rows), (large, large_rows) = counts
    assert (small_rows, large_rows) == (3, 9)
    assert small == large


async def test_kinds_and_systems_are_enums_with_the_words_they_always_were(
    engine: AsyncEngine,
) -> None:
    ids = await small_firm(engine)
    won = mutation("markOpportunityWon", "MarkOpportunityWonInput")
    deal = gid("Opportunity", ids["deal"])
    bare = "{ commands(filter: {kind: [mark_opportunity_won], targetSystem: [salesforce]}) "
    bare += "{ nodes { kind targetSystem } } }"
    quoted = '{ commands(filter: {kind: ["mark_opportunity_won"]}) { totalCount } }'
    async with writable_gateway(engine) as client:
        await graphql(client, won, {"input": {"opportunityId": deal, "idempotencyKey": "e"}})
        literal = await graphql(client, bare)
        string = await graphql(client, quoted)
        unknown = await graphql(client, PAGE, {"filter": {"kind": ["no_such_kind"]}})
        refs = await graphql(client, f'{{ node(id: "{deal}") {{ sourceRefs {{ system }} }} }}')

    assert literal["data"]["commands"]["nodes"] == [
        {"kind": "mark_opportunity_won", "targetSystem": "salesforce"}
    ]
    assert error_codes(string) == ["GRAPHQL_VALIDATION_FAILED"]
    assert error_codes(unknown) == ["BAD_USER_INPUT"]
    assert refs["data"]["node"]["sourceRefs"] == [{"system": "salesforce"}]
