"""Outbound webhooks for departments whose own systems take cases (部门对接推送): signed with HMAC,
retried with backoff, every attempt logged."""
