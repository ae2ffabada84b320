# Deploy gate of CODE's own delivery: what a release must show before it goes to an environment.
#   staging and prod: line coverage >= 80 % and no critical vulnerability;
#   prod: the same commit succeeded in staging first.
# Missing evidence fails the gate (fail closed). The engine asks it before every deployment and
# promotion (code.yaml lists it under `policies:`); the input is CODE's policy input document
# (docs/policy.md).
#
# The decision is a function of the request it judges (`violations(request)`); `deny` and
# `allowed` apply it to `input`.
package code.deploy_gate

import rego.v1

min_coverage_percent := 80

environments := {"dev", "staging", "prod"}

gated_environments := {"staging", "prod"}

gated_actions := {"deploy", "promote"}

deny := violations(input)

allowed if count(deny) == 0

violations(request) := set() if not request.action in gated_actions

violations(request) := (environment_violations(request) | quality_violations(request)) | promotion_violations(request) if {
	request.action in gated_actions
}

environment_name(request) := object.get(request, ["environment", "name"], null)

environment_violations(request) := {msg |
	not environment_name(request) in environments
	msg := sprintf("unknown environment %v", [object.get(request, ["environment", "name"], "?")])
}

quality_violations(request) := {msg |
	environment_name(request) in gated_environments
	some msg in quality_findings(object.get(request, ["release", "qualification"], {}))
}

quality_findings(quality) := {msg |
	not is_number(object.get(quality, "coverage_percent", null))
	msg := "no coverage report for this release"
} | {msg |
	quality.coverage_percent < min_coverage_percent
	msg := sprintf("coverage %v%% is below the %v%% minimum", [quality.coverage_percent, min_coverage_percent])
} | {msg |
	not is_number(object.get(quality, ["vulnerabilities", "critical"], null))
	msg := "no vulnerability scan for this release"
} | {msg |
	quality.vulnerabilities.critical > 0
	msg := sprintf("%v critical vulnerabilities (0 allowed)", [quality.vulnerabilities.critical])
}

promotion_violations(request) := {msg |
	environment_name(request) == "prod"
	not staging_succeeded(request)
	msg := sprintf("commit %s has no successful staging deployment", [object.get(request, ["release", "commit"], "?")])
}

staging_succeeded(request) if {
	some deployment in request.history
	deployment.environment == "staging"
	deployment.commit == request.release.commit
	deployment.status == "succeeded"
}
