# One-time bootstrap of the remote state: the S3 bucket and the DynamoDB lock table that
# infra/backend.tf uses. Applied once per AWS account with local state:
#   cd infra/bootstrap && tofu init && tofu apply
terraform {
  required_version = ">= 1.6.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.80"
    }
  }
}

variable "region" {
  description = "Region of the state bucket and lock table."
  type        = string
  default     = "eu-west-1"
}

provider "aws" {
  region = var.region
}

resource "aws_s3_bucket" "state" {
  #checkov:skip=CKV_AWS_144:state is versioned and small; a cross-region copy is out of scope for the bootstrap
  #checkov:skip=CKV_AWS_18:access to the state is audited through CloudTrail, not a log bucket
  #checkov:skip=CKV2_AWS_62:nothing consumes bucket events of the state
  bucket = "code-engine-terraform-state"

  lifecycle {
    prevent_destroy = true
  }
}

# Old state versions are kept 90 days, long enough to recover from a bad apply.
resource "aws_s3_bucket_lifecycle_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    id     = "expire-old-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = 90
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
  }
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket = aws_s3_bucket.state.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_dynamodb_table" "locks" {
  #checkov:skip=CKV_AWS_119:the table holds lock ids and state digests only, encrypted with the AWS owned key
  name         = "code-engine-terraform-locks"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "LockID"

  attribute {
    name = "LockID"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }

  lifecycle {
    prevent_destroy = true
  }
}

output "state_bucket" {
  description = "Bucket of the remote state."
  value       = aws_s3_bucket.state.bucket
}

output "lock_table" {
  description = "DynamoDB table used for state locking."
  value       = aws_dynamodb_table.locks.name
}
