from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render

from civicgrid.core.selectors import calendar_warnings
from civicgrid.regions.selectors import region_counts


def home(request):
    """Landing page: where each kind of user goes, and what this installation holds."""
    return render(
        request,
        "web/home.html",
        {"counts": region_counts(), "calendar_warnings": calendar_warnings()},
    )


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": connection.vendor})
