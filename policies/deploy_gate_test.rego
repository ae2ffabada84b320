package code.deploy_gate_test

import rego.v1

import data.code.deploy_gate

sha := "release-sha-42"

good_quality := {"status": "qualified", "coverage_percent": 86.4, "vulnerabilities": {"critical": 0, "high": 1}}

staging_ok := [{"environment": "staging", "commit": sha, "status": "succeeded"}]

request(environment, quality, history) := {
	"action": "deploy",
	"environment": {"name": environment},
	"release": {"version": "0.2.0", "commit": sha, "qualification": quality},
	"history": history,
}

test_prod_with_staging_success_and_good_quality_is_allowed if {
	deploy_gate.violations(request("prod", good_quality, staging_ok)) == set()
}

test_prod_without_staging_deployment_is_denied if {
	deploy_gate.violations(request("prod", good_quality, [])) == {"commit release-sha-42 has no successful staging deployment"}
}

test_prod_after_failed_staging_is_denied if {
	history := [{"environment": "staging", "commit": sha, "status": "failed"}]
	deploy_gate.violations(request("prod", good_quality, history)) == {"commit release-sha-42 has no successful staging deployment"}
}

test_staging_success_of_another_commit_does_not_count if {
	history := [{"environment": "staging", "commit": "0000000", "status": "succeeded"}]
	deploy_gate.violations(request("prod", good_quality, history)) == {"commit release-sha-42 has no successful staging deployment"}
}

test_coverage_below_80_is_denied if {
	quality := object.union(good_quality, {"coverage_percent": 79.5})
	deploy_gate.violations(request("prod", quality, staging_ok)) == {"coverage 79.5% is below the 80% minimum"}
}

test_coverage_of_exactly_80_is_allowed if {
	quality := object.union(good_quality, {"coverage_percent": 80})
	deploy_gate.violations(request("prod", quality, staging_ok)) == set()
}

test_critical_vulnerability_is_denied if {
	quality := object.union(good_quality, {"vulnerabilities": {"critical": 2, "high": 0}})
	deploy_gate.violations(request("prod", quality, staging_ok)) == {"2 critical vulnerabilities (0 allowed)"}
}

test_unknown_qualification_fails_closed if {
	deploy_gate.violations(request("staging", {"status": "unknown"}, [])) == {"no coverage report for this release", "no vulnerability scan for this release"}
}

test_prod_failing_every_gate_lists_every_reason if {
	quality := {"coverage_percent": 50, "vulnerabilities": {"critical": 1}}
	deploy_gate.violations(request("prod", quality, [])) == {
		"coverage 50% is below the 80% minimum",
		"1 critical vulnerabilities (0 allowed)",
		"commit release-sha-42 has no successful staging deployment",
	}
}

test_staging_needs_quality_but_no_prior_environment if {
	deploy_gate.violations(request("staging", good_quality, [])) == set()
}

test_dev_is_not_gated if {
	deploy_gate.violations(request("dev", {"status": "unknown"}, [])) == set()
}

test_unknown_environment_is_denied if {
	qa := object.union(request("prod", good_quality, staging_ok), {"environment": {"name": "qa"}})
	deploy_gate.violations(qa) == {"unknown environment qa"}
}

test_rollback_is_not_gated if {
	rollback := object.union(request("prod", {"status": "unknown"}, []), {"action": "rollback"})
	deploy_gate.violations(rollback) == set()
}
