"""Import jobs: one uploaded workbook, checked and applied by a background task."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wuye.core.scoping import ScopedQuerySet


class ImportJobQuerySet(ScopedQuerySet):
    def visible_to(self, actor):
        """Jobs of the actor's company in communities they manage (errors quote the file)."""
        return self.filter(
            actor.staff_q(community="community_id", company="company_id", perm="estates.manage")
        )


class ImportJob(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        VALIDATING = "validating", _("Checking rows")
        FAILED = "failed", _("Failed")
        IMPORTING = "importing", _("Writing")
        DONE = "done", _("Done")

    FINISHED = (Status.FAILED, Status.DONE)

    company = models.ForeignKey(
        "estates.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    community = models.ForeignKey(
        "estates.Community",
        on_delete=models.PROTECT,
        related_name="import_jobs",
        verbose_name=_("community"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="import_jobs",
        verbose_name=_("uploaded by"),
    )
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=200)
    language = models.CharField(_("language"), max_length=16, default=settings.LANGUAGE_CODE)
    status = models.CharField(
        _("status"), max_length=16, choices=Status, default=Status.PENDING, db_index=True
    )
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows checked"), default=0)
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    # [{"row": 12, "column": "建筑面积", "message": "..."}]; row 0 = the file as a whole.
    errors = models.JSONField(_("errors"), default=list, blank=True)
    # {"houses_created": 3, "houses_updated": 1, ...}
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-id"]
        indexes = [models.Index(fields=["company", "id"], name="importjob_company_id_idx")]

    def __str__(self):
        return f"{self.original_name} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.total_rows:
            return 0
        return min(100, self.processed_rows * 100 // self.total_rows)

    @property
    def created_total(self) -> int:
        return sum(v for k, v in self.counts.items() if k.endswith("_created"))

    @property
    def updated_total(self) -> int:
        return sum(v for k, v in self.counts.items() if k.endswith("_updated"))
