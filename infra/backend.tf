# Remote state in S3 with DynamoDB locking (both created once by infra/bootstrap).
# One state per workspace: dev, staging, prod (env/<workspace>/code-engine/terraform.tfstate).
terraform {
  backend "s3" {
    bucket               = "code-engine-terraform-state"
    key                  = "code-engine/terraform.tfstate"
    region               = "eu-west-1"
    dynamodb_table       = "code-engine-terraform-locks"
    encrypt              = true
    workspace_key_prefix = "env"
  }
}
