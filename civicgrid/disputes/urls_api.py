from django.urls import path

from civicgrid.disputes import api

app_name = "disputes-api"

_d = "<str:number>/"

urlpatterns = [
    path("", api.DisputeListCreate.as_view(), name="dispute-list"),
    path("figures/", api.FiguresView.as_view(), name="figures"),
    path("reviews/", api.ReviewQueue.as_view(), name="review-queue"),
    path("reviews/<int:review_id>/decide", api.ReviewDecide.as_view(), name="review-decide"),
    path("from-case/<str:number>", api.ProfileForCase.as_view(), name="profile-for-case"),
    path(_d, api.DisputeDetail.as_view(), name="dispute-detail"),
    path(_d + "joint-mediation", api.JointView.as_view(), name="joint-mediation"),
    path(_d + "parties", api.PartyView.as_view(), name="party-add"),
    path(_d + "parties/<int:party_id>/unmask", api.UnmaskView.as_view(), name="party-unmask"),
    path(_d + "sessions", api.SessionView.as_view(), name="session-add"),
    path(_d + "agreement", api.AgreementView.as_view(), name="agreement"),
    path(_d + "failure", api.FailureView.as_view(), name="failure"),
    path(_d + "confirmation/apply", api.ApplyConfirmationView.as_view(), name="confirmation-apply"),
    path(_d + "confirmation/decide", api.DecideConfirmationView.as_view(), name="confirmation-decide"),
    path(_d + "visits", api.ScheduleVisitView.as_view(), name="visit-schedule"),
    path(_d + "visits/<int:visit_id>/record", api.RecordVisitView.as_view(), name="visit-record"),
    path(_d + "evaluation", api.EvaluationView.as_view(), name="evaluation"),
]
