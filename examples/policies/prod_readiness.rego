# Production takes only a qualified release of a service assessed at level 2 or more.
package code.prod_readiness

import rego.v1

min_level := 2

gated_actions := {"deploy", "promote"}

deny := violations(input)

violations(request) := (qualification_violations(request) | missing_assessment(request)) | level_violations(request)

status(request) := object.get(request, ["release", "qualification", "status"], "unknown")

qualification_violations(request) := {msg |
	applies(request)
	status(request) != "qualified"
	msg := sprintf("release %s is not qualified (qualification: %s)", [request.release.version, status(request)])
}

missing_assessment(request) := {msg |
	applies(request)
	object.get(request, "assessment", null) == null
	msg := "no maturity assessment recorded: run codectl assess and record it"
}

level_violations(request) := {msg |
	applies(request)
	request.assessment.level < min_level
	msg := sprintf("assessment level %d is below %d", [request.assessment.level, min_level])
}

applies(request) if {
	request.action in gated_actions
	request.environment.name == "prod"
}
