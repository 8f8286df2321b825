"""The API's routes, declared by the app that owns them."""

# The network's flag for decommissioning (its other routes are listed in test_openapi.py).
DECOMMISSION_FLAG_ROUTES = {
    ("POST", "/services/{slug}/decommission-flag"), ("POST", "/services/{slug}/decommission-flag/clear"),
}

LIFECYCLE_ROUTES = {
    ("GET", "/criteria"), ("POST", "/criteria"), ("PUT", "/criteria/{slug}"),
    ("GET", "/assessments"), ("GET", "/assessments/due"), ("GET", "/assessments/{assessment_id}"),
    ("GET", "/assessments/{assessment_id}/report.md"), ("POST", "/services/{slug}/assessments"),
    ("PUT", "/assessments/{assessment_id}"), ("POST", "/assessments/{assessment_id}/agenda"),
    ("POST", "/assessments/{assessment_id}/cancel"), ("PUT", "/assessments/{assessment_id}/decisions"),
    ("POST", "/assessments/{assessment_id}/publish"), ("POST", "/assessments/{assessment_id}/addenda"),
    ("PUT", "/organisation/cadence"), ("PUT", "/services/{slug}/cadence"), ("GET", "/services/{slug}/timeline"),
    ("GET", "/services/{slug}/budget"), ("GET", "/budgets"), ("POST", "/services/{slug}/allocations"),
    ("POST", "/allocations/{allocation_id}/spends"), ("POST", "/allocations/{allocation_id}/reinvestments"),
    ("POST", "/services/{slug}/funding-requests"), ("POST", "/funding-requests/{request_id}/decision"),
}

GOVERNANCE_ROUTES = {
    # mandates (model 5.5)
    ("GET", "/mandates"), ("POST", "/mandates"), ("GET", "/mandates/{mandate_id}"), ("PUT", "/mandates/{mandate_id}"),
    ("POST", "/mandates/{mandate_id}/issue"), ("POST", "/mandates/{mandate_id}/close"),
    ("POST", "/mandates/{mandate_id}/remind"), ("POST", "/mandates/{mandate_id}/targets/{service_slug}/acknowledge"),
    ("POST", "/mandates/{mandate_id}/targets/{service_slug}/progress"),
    # guidance (5.6)
    ("GET", "/guidance"), ("POST", "/guidance"), ("GET", "/guidance/{guidance_id}"), ("PUT", "/guidance/{guidance_id}"),
    ("POST", "/guidance/{guidance_id}/publish"), ("POST", "/guidance/{guidance_id}/withdraw"),
    ("PUT", "/guidance/{guidance_id}/decisions/{service_slug}"), ("GET", "/services/{slug}/guidance-rejections"),
    # disputes (5.7)
    ("GET", "/disputes"), ("POST", "/disputes"), ("GET", "/disputes/{dispute_id}"),
    ("POST", "/disputes/{dispute_id}/resolve"), ("POST", "/disputes/{dispute_id}/withdraw"),
    # demand management (5.8) and the matcher
    ("GET", "/proposals"), ("POST", "/proposals"), ("GET", "/proposals/{proposal_id}"),
    ("POST", "/proposals/{proposal_id}/fold"), ("POST", "/proposals/{proposal_id}/decline"),
    ("POST", "/proposals/{proposal_id}/establish"), ("POST", "/matching/suggestions"), ("GET", "/matching/duplicates"),
    # deviations (10) and delegation (2)
    ("GET", "/deviations"), ("POST", "/deviations"), ("PUT", "/deviations/{deviation_id}"),
    ("POST", "/deviations/{deviation_id}/retire"),
    ("GET", "/organisation/reserved-acts"), ("PUT", "/organisation/reserved-acts"),
    # dashboards and notifications
    ("GET", "/dashboard/executive"), ("GET", "/dashboard/me"), ("GET", "/notifications"), ("POST", "/notifications/read"),
}

LEARNING_ROUTES = {
    # the doctrine and self-assessments (model 9)
    ("GET", "/doctrine/patterns"), ("PATCH", "/doctrine/patterns/{slug}"),
    ("GET", "/doctrine/rounds"), ("POST", "/doctrine/rounds"), ("GET", "/doctrine/rounds/{round_id}"),
    ("POST", "/doctrine/rounds/{round_id}/ratings"), ("POST", "/doctrine/rounds/{round_id}/close"),
    ("GET", "/doctrine/heat-map"),
    # Corrections of Error, their actions, reviews and the figures (7, 11)
    ("GET", "/coes"), ("POST", "/coes"), ("GET", "/coes/{coe_id}"), ("PUT", "/coes/{coe_id}"),
    ("DELETE", "/coes/{coe_id}"), ("POST", "/coes/{coe_id}/publish"), ("POST", "/coes/{coe_id}/actions"),
    ("POST", "/coes/{coe_id}/guidance"), ("POST", "/corrective-actions/{action_id}/update"),
    ("POST", "/corrective-actions/{action_id}/verify"),
    ("GET", "/coe-reviews"), ("POST", "/coe-reviews"), ("GET", "/coe-reviews/{review_id}"),
    ("POST", "/coe-reviews/{review_id}/hold"), ("GET", "/learning/figures"),
    # communities of practice and open roles (8)
    ("GET", "/communities"), ("POST", "/communities"), ("GET", "/communities/coverage"),
    ("GET", "/communities/{community_id}"), ("PATCH", "/communities/{community_id}"),
    ("POST", "/communities/{community_id}/join"), ("POST", "/communities/{community_id}/leave"),
    ("POST", "/communities/{community_id}/endorse"), ("POST", "/communities/{community_id}/withdraw-endorsement"),
    ("POST", "/communities/{community_id}/guidance"), ("POST", "/community-guidance/{guidance_id}/withdraw"),
    ("POST", "/communities/{community_id}/escalate"),
    ("GET", "/open-roles"), ("POST", "/services/{slug}/open-roles"), ("POST", "/open-roles/{opening_id}/close"),
}

FITNESS_ROUTES = {
    # a service's fitness data (model 5.4, 11)
    ("GET", "/services/{slug}/fitness"), ("GET", "/services/{slug}/measurements"),
    ("POST", "/services/{slug}/measurements"), ("POST", "/services/{slug}/measurements/csv"),
    ("GET", "/services/{slug}/measurements.csv"), ("PUT", "/services/{slug}/metrics/{key}/cadence"),
    ("GET", "/services/{slug}/ingest-tokens"), ("POST", "/services/{slug}/ingest-tokens"),
    ("POST", "/ingest-tokens/{token_id}/revoke"), ("POST", "/ingest"),
    ("GET", "/standard-measures"), ("POST", "/services/{slug}/standard-measures"),
    # the executive's figures and the network's fitness
    ("GET", "/figures"), ("POST", "/figures"), ("POST", "/figures/check"), ("GET", "/figures/{slug}"),
    ("PUT", "/figures/{slug}"), ("POST", "/figures/{slug}/retire"), ("GET", "/figures/{slug}/values"),
    ("GET", "/fitness"),
    # capital flow (5.3, 11)
    ("GET", "/capital-flow"), ("GET", "/capital-flow/{period}"), ("GET", "/capital-flow/{period}/services/{slug}"),
    ("PUT", "/services/{slug}/consumption/{period}"), ("PUT", "/services/{slug}/transactions/{period}"),
}

MAPS_ROUTES = {
    # a service's Wardley map (5.4)
    ("GET", "/services/{slug}/map"), ("PUT", "/services/{slug}/map"), ("GET", "/services/{slug}/map/versions"),
    ("GET", "/services/{slug}/map/versions/{number}"), ("GET", "/services/{slug}/map.svg"), ("POST", "/maps/render"),
    # the network map and the dependency graph
    ("GET", "/network/map"), ("GET", "/services/{slug}/neighbourhood"), ("GET", "/services/{slug}/impact"),
    ("GET", "/network/cycles"),
}

WEBHOOK_ROUTES = {
    ("GET", "/webhooks"), ("POST", "/webhooks"), ("GET", "/webhooks/{webhook_id}"), ("PUT", "/webhooks/{webhook_id}"),
    ("POST", "/webhooks/{webhook_id}/deactivate"), ("GET", "/webhooks/{webhook_id}/deliveries"),
    ("POST", "/webhook-deliveries/{delivery_id}/redeliver"),
}

SEARCH_ROUTES = {("GET", "/search")}
