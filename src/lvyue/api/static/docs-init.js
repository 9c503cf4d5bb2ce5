// Starts Swagger UI on the service's own OpenAPI document (an external file: the CSP forbids
// inline scripts).
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: false,
    validatorUrl: null, // never call validator.swagger.io (no network at run time)
  });
});
