package console

import (
	"errors"
	"net/http"

	"onething/civil"
	c "onething/contracts"
	"onething/gateway/store"
)

// A clerk interrupted at the window (a missing paper, a phone call) may
// save the form unfinished: on the server only, sealed by the store, one
// per account, for a day (store.Drafts); never in the browser of a shared
// window PC. Taking the application in removes it.

// draft is the clerk's saved draft, if drafts are on and one is there.
func (k *Console) draft(r *http.Request, req *request) (store.Draft, bool) {
	if k.cfg.Drafts == nil {
		return store.Draft{}, false
	}
	d, err := k.cfg.Drafts.Draft(r.Context(), req.p.Subject, k.cfg.Now())
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		k.cfg.Log.Error("console draft read", "caller", req.p.Subject, "err", err)
	}
	return d, err == nil
}

// saveDraft keeps the form as typed. The audit entry says who saved a
// draft, not what it holds.
func (k *Console) saveDraft(w http.ResponseWriter, r *http.Request, req *request, d intakeData) {
	if k.cfg.Drafts == nil {
		d.Error = d.T("本系统未开启草稿保存", "drafts are not available here")
		k.render(w, http.StatusNotImplemented, "intake", d)
		return
	}
	if !k.audit(w, r, req, c.AuditEntry{Action: "console.intake.draft"}) {
		return
	}
	fields := map[string]string{}
	for _, name := range formFields {
		if v := d.F[name]; v != "" {
			fields[name] = v
		}
	}
	draft := store.Draft{Fields: fields, Saved: k.cfg.Now()}
	if err := k.cfg.Drafts.PutDraft(r.Context(), req.p.Subject, draft); err != nil {
		k.cfg.Log.Error("console draft save", "caller", req.p.Subject, "err", err)
		d.Error = d.T("暂时无法保存草稿，请稍后重试", "cannot save the draft now; retry")
		k.render(w, http.StatusServiceUnavailable, "intake", d)
		return
	}
	d.Flash = d.T("草稿已保存在服务器上，"+civil.Display(draft.Expires())+" 前可在本页继续填写；提交受理后自动删除",
		"draft saved on the server; resume it on this page until "+civil.Display(draft.Expires())+"; it is deleted when the application is submitted")
	k.render(w, http.StatusOK, "intake", d)
}

// dropDraft removes the clerk's draft (after a submit, or asked to).
func (k *Console) dropDraft(r *http.Request, req *request) error {
	if k.cfg.Drafts == nil {
		return nil
	}
	err := k.cfg.Drafts.DeleteDraft(r.Context(), req.p.Subject)
	if err != nil {
		k.cfg.Log.Error("console draft delete", "caller", req.p.Subject, "err", err)
	}
	return err
}

// discardDraft is the form's "discard the draft" button.
func (k *Console) discardDraft(w http.ResponseWriter, r *http.Request, req *request) {
	if k.dropDraft(r, req) != nil {
		k.failPage(w, r, req, http.StatusServiceUnavailable, "暂时无法删除草稿，请稍后重试", "cannot delete the draft now; retry")
		return
	}
	http.Redirect(w, r, "/console/intake?flash=draftdropped", http.StatusSeeOther)
}
