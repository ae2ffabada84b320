package code.prod_readiness_test

import rego.v1

import data.code.prod_readiness

request(status, assessment) := {
	"action": "deploy",
	"environment": {"name": "prod"},
	"release": {"version": "1.2.0", "qualification": {"status": status}},
	"assessment": assessment,
}

test_qualified_release_at_level_2_is_allowed if {
	prod_readiness.violations(request("qualified", {"level": 2})) == set()
}

# literal documents: regopy 1.5 quotes strings that reach sprintf through a function argument
unknown_release := {
	"action": "deploy",
	"environment": {"name": "prod"},
	"release": {"version": "1.2.0", "qualification": {"status": "unknown"}},
	"assessment": {"level": 3},
}

test_unknown_qualification_is_refused if {
	prod_readiness.violations(unknown_release) == {"release 1.2.0 is not qualified (qualification: unknown)"}
}

test_low_level_is_refused if {
	prod_readiness.violations(request("qualified", {"level": 1})) == {"assessment level 1 is below 2"}
}

test_missing_assessment_is_refused if {
	prod_readiness.violations(request("qualified", null)) == {"no maturity assessment recorded: run codectl assess and record it"}
}

test_staging_is_not_gated if {
	staging := object.union(request("unknown", null), {"environment": {"name": "staging"}})
	prod_readiness.violations(staging) == set()
}
