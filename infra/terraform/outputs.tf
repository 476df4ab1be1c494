output "function_name" {
  description = "The scanner function."
  value       = aws_lambda_function.scanner.function_name
}

output "function_arn" {
  value = aws_lambda_function.scanner.arn
}

output "scanner_role_arn" {
  description = "Give this to the member role (scanner_role_arn)."
  value       = aws_iam_role.scanner.arn
}

output "failure_queue_url" {
  value = aws_sqs_queue.failures.url
}

output "rescan_command" {
  description = "On-demand rescan of one account and region."
  value       = "aws lambda invoke --function-name ${aws_lambda_function.scanner.function_name} --cli-binary-format raw-in-base64-out --payload '{\"accounts\":[\"111111111111\"],\"regions\":[\"${var.regions[0]}\"]}' out.json && cat out.json"
}

output "scan_queue_url" {
  description = "The fan-out queue."
  value       = aws_sqs_queue.scan.url
}

output "scan_dead_letter_queue_url" {
  value = aws_sqs_queue.scan_dlq.url
}

output "change_event_bus_arn" {
  description = "Give this to the member-events module (central_event_bus_arn)."
  value       = var.enable_change_events ? aws_cloudwatch_event_bus.changes[0].arn : null
}
