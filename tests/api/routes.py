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
