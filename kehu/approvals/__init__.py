"""Approvals (ACC-6): flows as data, requests on any record, the approver's inbox."""
