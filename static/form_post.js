// Submits the form_post response (OAuth 2.0 Form Post Response Mode) as soon
// as the page loads; the page's button does the same when scripts are off.
document.getElementById("form-post").submit();
