"""The API's routes, declared by the app that owns them."""

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
