# Amounts in Chinese business software read ¥1,234,567.00 (groups of three, comma); Django's
# zh_Hans defaults group by four with no separator. Everything else comes from Django's module.
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
