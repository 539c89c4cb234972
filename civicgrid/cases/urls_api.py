from django.urls import path

from civicgrid.cases import api

app_name = "cases-api"

_case = "<str:number>/"
_task = "<str:number>/assignments/<int:assignment_id>/"
_request = "<str:number>/requests/<int:request_id>/"

urlpatterns = [
    path("", api.CaseListCreate.as_view(), name="case-list"),
    # Before the case patterns: "ratings" is no case number.
    path("ratings/<str:token>", api.RatingView.as_view(), name="rating"),
    path(_case, api.CaseDetail.as_view(), name="case-detail"),
    path(_case + "file", api.FileView.as_view(), name="case-file"),
    path(_case + "reject", api.RejectView.as_view(), name="case-reject"),
    path(_case + "merge", api.MergeView.as_view(), name="case-merge"),
    path(_case + "dispatch", api.DispatchView.as_view(), name="case-dispatch"),
    path(_case + "cancel", api.CancelView.as_view(), name="case-cancel"),
    path(_case + "suspend", api.SuspendView.as_view(), name="case-suspend"),
    path(_case + "resume", api.ResumeView.as_view(), name="case-resume"),
    path(_case + "verify", api.VerifyView.as_view(), name="case-verify"),
    path(_case + "reopen", api.ReopenView.as_view(), name="case-reopen"),
    path(_case + "escalate", api.EscalateView.as_view(), name="case-escalate"),
    path(_case + "supervise", api.SuperviseView.as_view(), name="case-supervise"),
    path(_case + "stage-reply", api.StageReplyView.as_view(), name="case-stage-reply"),
    path(_task + "sign-for", api.SignForView.as_view(), name="assignment-sign-for"),
    path(_task + "return", api.ReturnView.as_view(), name="assignment-return"),
    path(_task + "report-result", api.ReportResultView.as_view(), name="assignment-report-result"),
    path(_task + "request-extension", api.RequestExtensionView.as_view(), name="assignment-request-extension"),
    path(_task + "request-suspension", api.RequestSuspensionView.as_view(), name="assignment-request-suspension"),
    path(_request + "approve", api.ApproveRequestView.as_view(), name="request-approve"),
    path(_request + "refuse", api.RefuseRequestView.as_view(), name="request-refuse"),
]
