"""Publish a month: marts → the province extract package (and delivery).

| module | job |
|---|---|
| `periods.py` | reporting months, provisional until the closing day (TTHC_MONTH_CLOSING_DAY, default 5) then final |
| `rows.py` | the five contract tables for a reporting unit's tree, read from the marts; MissingMart |
| `scores.py` | group scores rounded so they add up to tong_diem (largest remainder) |
| `monthly.py` | `publish_month`: gate check, one snapshot of the marts, `tthc.extract.write_package` |
| `inbox.py` | the inbox's URL and token: Airflow connection `province_inbox`, else PROVINCE_INBOX_URL/_TOKEN |
| `delivery.py` | `deliver_outbox`: pending packages to the inbox, a report; rejections logged at ERROR |
"""
